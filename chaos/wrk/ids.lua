-- ids.lua: give every wrk request a unique X-Request-Id, so the hits it
-- caused can be checked against what wrk counted; print wrk's own counts
-- as one JSON line when it ends.
-- usage: wrk -s chaos/wrk/ids.lua URL -- RUN_ID [noid]
--   noid: send the URL's path with no id (for benchmarks of other servers)

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
    if not ids then
        return wrk.format("GET", wrk.path)
    end
    counter = counter + 1
    return wrk.format("GET", wrk.path, { ["X-Request-Id"] = prefix .. counter })
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
