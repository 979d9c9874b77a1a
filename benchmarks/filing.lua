-- POST a realistic ~500-byte incident report; the bearer token comes from the environment.
-- Each request varies the position (inside the demo region) and the air category, as a day of
-- real reports would; a stream of identical reports would make every one "related" to the others.
local token = os.getenv("BENCH_TOKEN")
local template = os.getenv("BENCH_BODY")
local categories = {"unsafe_intercept", "uncooperative_flight", "airspace_violation", "simulated_attack",
                    "aerobatics_over_ship", "object_dropped"}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

-- The position as reported moves with the coordinates: the API refuses text that disagrees with them.
request = function()
  local latitude, longitude = 53.6 + math.random() * 2.2, 20.8 + math.random() * 3.0
  local body = template
    :gsub('"latitude": [%d.]+', string.format('"latitude": %.4f', latitude))
    :gsub('"longitude": [%d.]+', string.format('"longitude": %.4f', longitude))
    :gsub('"position_text": "[^"]*"', string.format('"position_text": "%.4f, %.4f"', latitude, longitude))
    :gsub('"unsafe_intercept"', '"' .. categories[math.random(#categories)] .. '"')
  return wrk.format(nil, nil, nil, body)
end
