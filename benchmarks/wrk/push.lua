-- Single-message pushes: SPOOL_TOKEN=... wrk -t2 -c64 -d10s -s push.lua http://127.0.0.1:7500/queues/bench/messages
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SPOOL_TOKEN")
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"body":{"transaction_id":"tx-000123","customer":{"user_id":42,"username":"alice","role":3},'
  .. '"status":0,"vendor_id":"v-17","amount":123.45},"metadata":{"node":"hpc-17","job":"score-7"}}'
