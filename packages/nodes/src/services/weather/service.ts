import type { ServiceDefinition } from "../../define.ts";
import { dailyForecast } from "./daily_forecast.ts";
import { temperatureCrosses } from "./temperature_crosses.ts";

// https://open-meteo.com/en/docs: free for non-commercial use, no account or key.
export const weather: ServiceDefinition = {
  key: "weather",
  name: "Weather",
  description: "Current temperature and daily forecasts anywhere, from Open-Meteo (no account needed).",
  icon: "cloud-sun",
  auth: "none",
  actions: [temperatureCrosses, dailyForecast],
  reactions: [],
};
