# mk/swarm.mk: the stack on a Docker Swarm of SWARM_HOSTS hosts, each a
# container running its own engine (swarm/), included by the Makefile.
#   make swarm-up     the hosts, one swarm (every host a manager), the
#                     images loaded into each, the stack deployed; done
#                     once every host's proxy counts a hit (swarm/up)
#   make swarm-ps     where each task runs, and the published ports
#   make swarm-hits   /hits through the first host's proxy
#   make swarm-down   remove all of it: hosts, their volumes, the network
#   make swarm-test   tests/swarm.t alone, verbose
#   make swarm-chaos-test  tests/swarmchaos.t alone, verbose
# SWARM_HOSTS (default 3), SWARM_NAME (crashonly-swarm), SWARM_IMAGES
# (crashonly-swarm: the images are built under that prefix, never over the
# compose stack's) and WORKERS (3 here) go to swarm/up.

SWARM_HOSTS ?= 3
SWARM_NAME ?= crashonly-swarm
export SWARM_HOSTS SWARM_NAME

.PHONY: swarm-up swarm-ps swarm-hits swarm-down swarm-test swarm-chaos-test
swarm-up:
	@compose/run version >/dev/null 2>&1 || mk/deps docker
	WORKERS=$(if $(filter command line,$(origin WORKERS)),$(WORKERS),3) swarm/up

swarm-ps:
	@swarm/docker 1 service ps --filter desired-state=running \
		--format '{{.Name}} {{.Node}} {{.CurrentState}}' \
		$$(swarm/docker 1 service ls -q)
	@for c in $$(docker ps -q --filter label=crashonly.swarm=$(SWARM_NAME)); do \
		echo "$$(docker inspect -f '{{.Config.Hostname}}' $$c) proxy at $$(docker port $$c | sed 's/.*-> //')"; \
	done

swarm-hits:
	@curl -s "http://$$(docker port $(SWARM_NAME)-h1 $${PROXY_PORT:-8080}/tcp | head -n 1)/hits"; echo

swarm-down:
	swarm/down

swarm-test:
	prove -v tests/swarm.t

swarm-chaos-test:
	prove -v tests/swarmchaos.t
