-- wrk script: replays pre-signed click paths (one per line in the file named by CLICK_PATHS) round-robin,
-- each wrk thread starting at a different offset, and counts status codes.
local paths = {}
local counter = 0
local statuses = {}

function init(args)
  for line in io.lines(os.getenv("CLICK_PATHS")) do
    paths[#paths + 1] = line
  end
  counter = math.random(#paths)
end

function request()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter], { ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) loadtest" })
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
