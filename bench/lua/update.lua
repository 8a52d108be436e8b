-- POST /v1/Users/{sid} FriendlyName=<new value each time>.
-- BENCH_HOT_SID set: every request updates that one user (contention on one row);
-- otherwise rotate over the seeded SIDs in BENCH_SIDS (distinct users).
dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/common.lua")

wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
-- BENCH_WEBHOOK=1: ask for webhooks (X-Twilio-Webhook-Enabled), to compare with and without a target
if os.getenv("BENCH_WEBHOOK") == "1" then
   wrk.headers["X-Twilio-Webhook-Enabled"] = "true"
end

local sids, n, i, t

function init(args)
   local hot = os.getenv("BENCH_HOT_SID")
   if hot and #hot > 0 then
      sids = { hot }
   else
      sids = load_lines(os.getenv("BENCH_SIDS"))
   end
   n = #sids
   i = start_offset(n)
   t = tid or 0
end

function request()
   i = i + 1
   return wrk.format("POST", "/v1/Users/" .. sids[(i % n) + 1], nil,
                     "FriendlyName=bench+" .. t .. "-" .. i)
end
