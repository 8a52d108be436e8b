-- POST /v1/Conversations/{CH}/Messages Body=<distinct>: BENCH_CONVERSATIONS is one conversation SID or a file
-- of them (one a line), taken in turn, each thread from its own slice.
dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/common.lua")

wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

local convs, n, i, t

function init(args)
   local c = os.getenv("BENCH_CONVERSATIONS") or ""
   if c:sub(1, 2) == "CH" then
      convs = { c }
   else
      convs = load_lines(c)
   end
   n = #convs
   i = start_offset(n)
   t = tid or 0
end

function request()
   i = i + 1
   return wrk.format("POST", "/v1/Conversations/" .. convs[(i % n) + 1] .. "/Messages", nil,
                     "Body=message+" .. t .. "-" .. i .. "&Author=bench")
end
