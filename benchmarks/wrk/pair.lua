-- Push + pull pairs on queue SPOOL_QUEUE (default bench), alternating on each connection:
-- SPOOL_TOKEN=... wrk -t2 -c64 -d10s -s pair.lua http://127.0.0.1:7500/
local token = "Bearer " .. os.getenv("SPOOL_TOKEN")
local queue = os.getenv("SPOOL_QUEUE") or "bench"
local body = '{"body":{"transaction_id":"tx-000123","customer":{"user_id":42,"username":"alice","role":3},'
  .. '"status":0,"vendor_id":"v-17","amount":123.45},"metadata":{"node":"hpc-17"}}'
local n = 0
request = function()
  n = n + 1
  if n % 2 == 1 then
    return wrk.format("POST", "/queues/" .. queue .. "/messages",
      {["Authorization"] = token, ["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("GET", "/queues/" .. queue .. "/messages/first", {["Authorization"] = token})
end
