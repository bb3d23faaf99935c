-- ids.lua: give every wrk request a unique X-Request-Id, so the hits it
-- caused can be checked against what wrk counted; print wrk's own counts
-- as one JSON line when it ends.
-- usage: wrk -s chaos/wrk/ids.lua URL -- RUN_ID

local threads = 0
local counter = 0
local prefix = "wrk-"

function setup(thread)
    threads = threads + 1
    thread:set("tid", threads)
end

function init(args)
    prefix = string.format("wrk-%s-%d-", args[1] or "run", tid)
end

function request()
    counter = counter + 1
    return wrk.format("GET", "/", { ["X-Request-Id"] = prefix .. counter })
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        '{"requests":%d,"non2xx":%d,"connect":%d,"read":%d,' ..
        '"write":%d,"timeout":%d,"p99_us":%d}\n',
        summary.requests, e.status, e.connect, e.read, e.write, e.timeout,
        latency:percentile(99)))
end
