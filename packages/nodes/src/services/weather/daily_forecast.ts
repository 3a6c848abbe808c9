import { Cron } from "croner";
import { z } from "zod";
import type { ActionDefinition } from "../../define.ts";
import { RetryableError } from "../../errors.ts";
import { baselineCursor, dueOccurrence, latestCronRun, type ScheduleCursor, timeZoneParam } from "../../schedule.ts";
import { forecast, placeParams, weatherDescription } from "./api.ts";

const params = z.object({
  ...placeParams,
  time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: "must be a time of day as HH:MM (00:00 to 23:59)" })
    .meta({ description: "When to send the day's forecast, local time (HH:MM)", placeholder: "07:30" }),
  timezone: timeZoneParam("IANA time zone of the time and of the forecast's day"),
});

type Params = z.output<typeof params>;

const DAILY = ["temperature_2m_max", "temperature_2m_min", "precipitation_sum", "weather_code"] as const;

/** Open-Meteo's answer to `daily=…`: one array per variable, aligned with `time` (local dates); null when missing. */
const values = z.array(z.number().nullable());
const dailyShape = z.object({
  daily: z.object({
    time: z.array(z.string()),
    temperature_2m_max: values,
    temperature_2m_min: values,
    precipitation_sum: values,
    weather_code: values,
  }),
});

/** The local date ("2026-01-05") of an instant in a time zone. */
function localDate(instant: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" })
    .formatToParts(instant);
  const part = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${part("year")}-${part("month")}-${part("day")}`;
}

/** "Slight rain, 4.1 to 9.3 °C, 2.5 mm of precipitation" */
function summary(code: number, min: number, max: number, precipitation: number): string {
  const rain = precipitation > 0 ? `${precipitation} mm of precipitation` : "no precipitation";
  return `${weatherDescription(code)}, ${min} to ${max} °C, ${rain}`;
}

export const dailyForecast: ActionDefinition = {
  key: "daily_forecast",
  name: "Daily forecast",
  description: "Every day at a local time, fires with that day's forecast at a place (Open-Meteo): the highest and " +
    "lowest temperature, the precipitation, the WMO weather code and a readable summary. Like the cron timer it is " +
    "checked every minute and fires at most once a day; after downtime, only the latest missed day fires.",
  params,
  outputs: z.object({
    date: z.iso.date().meta({ description: "The forecast's day, local to the time zone (YYYY-MM-DD)" }),
    max: z.number().meta({ description: "Highest temperature of the day, in °C" }),
    min: z.number().meta({ description: "Lowest temperature of the day, in °C" }),
    precipitation: z.number().meta({ description: "Precipitation of the day (rain, showers, snow), in mm" }),
    weather_code: z.number().int().meta({ description: "The day's most severe weather, as a WMO code" }),
    summary: z.string().meta({ description: "The forecast in words: weather, temperatures, precipitation" }),
  }),
  sample: {
    date: "2026-01-05",
    max: 9.3,
    min: 4.1,
    precipitation: 2.5,
    weather_code: 61,
    summary: "Slight rain, 4.1 to 9.3 °C, 2.5 mm of precipitation",
  },
  trigger: {
    polling: {
      // Checking the clock costs no call: Open-Meteo is asked once a day, when the time has come.
      minIntervalSeconds: 60,
      defaultIntervalSeconds: 60,
      async poll(ctx, raw, cursor) {
        const { latitude, longitude, time, timezone } = raw as Params;
        const last = cursor as ScheduleCursor | undefined;
        if (last === undefined) return { events: [], cursor: baselineCursor(ctx.scheduledAt) };
        const [hour, minute] = time.split(":").map(Number);
        const due = dueOccurrence(
          latestCronRun(new Cron(`${minute} ${hour} * * *`, { timezone })),
          ctx.scheduledAt,
          last,
        );
        if (!due) return { events: [] };
        // The day of the occurrence, even when it fires late: asked for by date, not as "today".
        const date = localDate(due, timezone);
        const { daily } = await forecast(ctx, {
          latitude: String(latitude),
          longitude: String(longitude),
          daily: DAILY.join(","),
          timezone,
          start_date: date,
          end_date: date,
        }, dailyShape);
        const index = daily.time.indexOf(date);
        const [max, min, precipitation, code] = DAILY.map((name) => daily[name][index] ?? null);
        // The cursor stays: the next check asks again.
        if (index < 0 || max === null || min === null || precipitation === null || code === null) {
          throw new RetryableError(`Open-Meteo has no complete forecast for ${date} yet`);
        }
        const count = last.count + 1;
        return {
          events: [{
            dedupeKey: date,
            outputs: {
              date,
              max,
              min,
              precipitation,
              weather_code: code,
              summary: summary(code, min, max, precipitation),
            },
          }],
          cursor: { last: due.toISOString(), count } satisfies ScheduleCursor,
        };
      },
    },
  },
};
