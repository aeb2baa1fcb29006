-- wrk script: each write carries DEPTH requests for /plaintext (default 16), back to back.
--   wrk -s bench/pipeline.lua ... http://127.0.0.1:PORT -- 16
init = function(args)
    local depth = tonumber(args[1]) or 16
    local batch = {}
    for i = 1, depth do
        batch[i] = wrk.format("GET", "/plaintext")
    end
    pipelined = table.concat(batch)
end

request = function()
    return pipelined
end
