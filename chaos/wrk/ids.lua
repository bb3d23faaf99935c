-- ids.lua: give every wrk request a unique X-Request-Id, so the hits it
-- caused can be checked against what wrk counted; print wrk's own counts
-- as one JSON line when it ends.
-- usage: wrk -s chaos/wrk/ids.lua URL -- RUN_ID [noid]
--   noid: no id; the same bytes go under another header name, which no
--   server reads, so a load with ids and one without cost wrk the same

local threads = 0
local counter = 0
local prefix = "wrk-"
local ids = true

function setup(thread)
    threads = threads + 1
    thread:set("tid", threads)
end

function init(args)
    prefix = string.format("wrk-%s-%d-", args[1] or "run", tid)
    ids = args[2] ~= "noid"
end

function request()
    counter = counter + 1
    local name = ids and "X-Request-Id" or "X-Load-Seqno"
    return wrk.format("GET", wrk.path, { [name] = prefix .. counter })
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        '{"requests":%d,"rps":%.1f,"non2xx":%d,"connect":%d,"read":%d,' ..
        '"write":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\n',
        summary.requests, summary.requests / (summary.duration / 1e6),
        e.status, e.connect, e.read, e.write, e.timeout,
        latency:percentile(50), latency:percentile(99)))
end
