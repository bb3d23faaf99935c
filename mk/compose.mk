# mk/compose.mk: the compose stack, included by the top-level Makefile.
#   make images         the images, after the local stand-ins for upstream
#                       ones where no registry answers (compose/images)
#   make compose-up     docker compose up, detached, with $(WORKERS) workers
#   make compose-ps     each container's state and restart count
#   make compose-crash  SIGKILL one worker's process: a crash, not a stop;
#                       runsv restarts it inside its container
#   make compose-crash-container  SIGKILL one worker container's pid 1
#                       (root: from the host); the engine restarts it
#   make compose-down   remove the stack, its Redis volume too
#   make compose-test   tests/compose.t alone, verbose
#   make bench-compose  the compose stack beside its return-200 peer and
#                       under chaos, restart and stop times (bench/compose)
# compose/run runs whichever Compose v2 is installed.

.PHONY: images compose-up compose-ps compose-crash compose-crash-container \
	compose-down compose-test bench-compose
images:
	@compose/run version >/dev/null 2>&1 || mk/deps docker
	compose/images

compose-up: images
	compose/run up -d --scale worker=$(WORKERS)

compose-ps:
	@docker inspect -f '{{.Name}} {{.State.Status}} restarts={{.RestartCount}}' \
		$$(compose/run ps -aq) | sed 's|^/||'

# From a shell in the worker's container, as its user: the pid its runsv
# reports (tini is pid 1, runsv its child, the worker runsv's).
compose-crash:
	docker exec "$$(compose/run ps -q worker | head -n 1)" \
		sh -c 'kill -KILL "$$(cat /run/crashonly/supervise/pid)"'

# tini, the container's pid 1, can only be killed from outside its pid
# namespace: from the host, by the pid the engine reports (never 'docker
# kill', which the engine takes for a manual stop).
compose-crash-container:
	kill -KILL "$$(docker inspect -f '{{.State.Pid}}' \
		"$$(compose/run ps -q worker | head -n 1)")"

compose-down:
	compose/run down -v

compose-test:
	prove -v tests/compose.t

bench-compose: images
	@mk/deps build run chaos
	$(MAKE) all
	bench/compose
