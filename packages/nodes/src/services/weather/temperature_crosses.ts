import { z } from "zod";
import type { ActionDefinition } from "../../define.ts";
import { forecast, instantOf, placeParams } from "./api.ts";

const params = z.object({
  ...placeParams,
  threshold: z.number().min(-100).max(100).meta({ description: "The temperature to watch, in °C", placeholder: "25" }),
  direction: z.enum(["above", "below"]).default("above").meta({
    description: "Fire when the temperature rises above the threshold, or when it drops below it",
  }),
});

type Params = z.output<typeof params>;

/** Open-Meteo's answer to `current=temperature_2m`: the 15-minute step's value, in its local time. */
const currentShape = z.object({
  utc_offset_seconds: z.number(),
  current: z.object({ time: z.string(), temperature_2m: z.number().nullable() }),
});

/**
 * The side of the threshold the last reading was on (`beyond`: above it for direction `above`, below
 * it for `below`), for the threshold and direction it was measured against.
 */
type CrossingCursor = { beyond: boolean; threshold: number; direction: Params["direction"] };

export const temperatureCrosses: ActionDefinition = {
  key: "temperature_crosses",
  name: "Temperature crosses a threshold",
  description: "Fires when the current temperature at a place (Open-Meteo, refreshed every 15 minutes) crosses a " +
    "threshold in the chosen direction: once when it rises above it (or drops below it), not on every check while " +
    "it stays there; it fires again only after going back. The first check only records which side it is on.",
  params,
  outputs: z.object({
    temperature: z.number().meta({ description: "The temperature that crossed the threshold, in °C" }),
    threshold: z.number().meta({ description: "The threshold, in °C" }),
    observed_at: z.iso.datetime().meta({ description: "When Open-Meteo's reading was valid (UTC)" }),
    latitude: z.number().meta({ description: "Latitude of the place" }),
    longitude: z.number().meta({ description: "Longitude of the place" }),
  }),
  sample: {
    temperature: 25.3,
    threshold: 25,
    observed_at: "2026-07-01T12:15:00.000Z",
    latitude: 48.8566,
    longitude: 2.3522,
  },
  trigger: {
    polling: {
      // Open-Meteo's current values change every 15 minutes, and its free API allows 10,000 calls a day
      // per client address, which every AREA of a deployment shares: every 5 minutes (288 calls a day for
      // one AREA) sees a change within minutes; once a minute is the floor.
      minIntervalSeconds: 60,
      defaultIntervalSeconds: 300,
      async poll(ctx, raw, cursor) {
        const { latitude, longitude, threshold, direction } = raw as Params;
        const { utc_offset_seconds, current } = await forecast(ctx, {
          latitude: String(latitude),
          longitude: String(longitude),
          current: "temperature_2m",
        }, currentShape);
        const temperature = current.temperature_2m;
        // No reading this time: nothing crossed, and the last side is kept.
        if (temperature === null) return { events: [] };
        const beyond = direction === "above" ? temperature > threshold : temperature < threshold;
        const next: CrossingCursor = { beyond, threshold, direction };
        const last = cursor as CrossingCursor | undefined;
        // The first poll, or a threshold or direction changed since: only note the side.
        if (!last || last.threshold !== threshold || last.direction !== direction) return { events: [], cursor: next };
        if (beyond === last.beyond) return { events: [] };
        if (!beyond) return { events: [], cursor: next };
        const observedAt = instantOf(current.time, utc_offset_seconds).toISOString();
        return {
          events: [{
            dedupeKey: `${direction}:${observedAt}`,
            outputs: { temperature, threshold, observed_at: observedAt, latitude, longitude },
          }],
          cursor: next,
        };
      },
    },
  },
};
