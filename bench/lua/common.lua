-- Shared by the bench scripts (loaded with dofile from each). Environment, set by bench/run.sh:
--   BENCH_AUTH      base64 of "ACxxx:token" (sent as HTTP Basic on every request)
--   BENCH_THREADS   wrk's -t, so each thread starts at its own slice of the seeded users
-- wrk runs this file once in the main Lua state and once per thread; setup() runs in the main
-- state and hands each thread its number as the global `tid` before that thread's init().

wrk.headers["Authorization"] = "Basic " .. (os.getenv("BENCH_AUTH") or "")

local next_tid = 0
function setup(thread)
   thread:set("tid", next_tid)
   next_tid = next_tid + 1
end

-- Lines of a file, as an array (the seeded SIDs, one per line).
function load_lines(path)
   local t = {}
   for line in io.lines(path) do
      if #line > 0 then t[#t + 1] = line end
   end
   if #t == 0 then error("no lines in " .. path) end
   return t
end

-- Where this thread starts in a rotation over n items: threads take disjoint slices. BENCH_SLICES and
-- BENCH_SLICE (default 1 and 0) split the items further between wrk processes run at once.
function start_offset(n)
   local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
   local slices = tonumber(os.getenv("BENCH_SLICES") or "1")
   local slice = tonumber(os.getenv("BENCH_SLICE") or "0")
   return math.floor(n / (threads * slices)) * (slice * threads + (tid or 0))
end
