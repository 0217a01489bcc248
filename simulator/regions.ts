import { ConfigError } from "../common/errors";
import type { GatewayModel, ModelGatewayRegion } from "./model";
import type { ModelParameters } from "./parameters";
import type { Scenario } from "./scenario";

/*
 * Where a client's request lands: the gateway regions and zones of the model, and what a region or
 * zone outage does to them. A client enters its stream's region; while that region is down, Azure's
 * global endpoint keeps sending it there for regionFailoverSeconds (the client gets an error), then to
 * another region (one in the same part of the world first, in model order). Inside a region, units
 * take turns; a unit in a failed zone fails requests for zoneFailoverSeconds, then gets none.
 */

/** One gateway unit: its region (index into the regions) and zone. */
export interface UnitPlace {
  region: number;
  zone?: string;
}

interface Window {
  from: number;
  to: number;
}

export class GatewayRegions {
  readonly regions: ModelGatewayRegion[];
  readonly units: UnitPlace[];
  private readonly regionOfStream: number[];
  private readonly regionDown: Window[][];
  private readonly zoneDown: { region: number; zone: string; window: Window }[];
  private readonly nextUnit: number[];

  constructor(
    gateway: GatewayModel,
    scenario: Scenario,
    private readonly p: ModelParameters,
    /** Regions in the same part of the world as each region, for the failover order. */
    private readonly sameArea: (a: string, b: string) => boolean = () => false,
  ) {
    const regions = gateway.regions?.length
      ? gateway.regions.map((r) => ({ ...r }))
      : [{ name: "primary", units: scenario.gatewayUnits ?? 1 }];
    if (scenario.gatewayUnits !== undefined) regions[0] = { ...regions[0], units: scenario.gatewayUnits };
    this.regions = regions;
    this.units = regions.flatMap((r, region) =>
      Array.from({ length: r.units }, (_, k) => ({
        region,
        ...(r.zones?.length ? { zone: r.zones[k % r.zones.length] } : {}),
      })),
    );
    this.nextUnit = regions.map(() => 0);
    const names = regions.map((r) => r.name);
    this.regionOfStream = scenario.streams.map((stream, i) => {
      if (stream.region === undefined) return 0;
      const index = names.indexOf(stream.region);
      if (index < 0) {
        throw new ConfigError("Invalid scenario", [
          {
            key: `scenario.traffic[${i}].region`,
            given: JSON.stringify(stream.region),
            allowed: `a region the gateway runs in: ${names.join(", ")}`,
          },
        ]);
      }
      return index;
    });
    this.regionDown = regions.map(() => []);
    this.zoneDown = [];
    scenario.faults.forEach((fault, index) => {
      const window = {
        from: Math.round(fault.fromSeconds * 1000),
        to: fault.toSeconds === undefined ? Number.POSITIVE_INFINITY : Math.round(fault.toSeconds * 1000),
      };
      if (fault.zone !== undefined) {
        const region = fault.region === undefined ? 0 : names.indexOf(fault.region);
        if (region < 0 || !regions[region].zones?.includes(fault.zone)) {
          throw new ConfigError("Invalid scenario", [
            {
              key: `scenario.faults[${index}].${region < 0 ? "region" : "zone"}`,
              given: JSON.stringify(region < 0 ? fault.region : fault.zone),
              allowed:
                region < 0
                  ? `a region the gateway runs in: ${names.join(", ")}`
                  : `a zone of ${regions[region].name}'s units: ${regions[region].zones?.join(", ") || "none (no zones)"}`,
            },
          ]);
        }
        this.zoneDown.push({ region, zone: fault.zone, window });
      } else if (fault.region !== undefined) {
        const region = names.indexOf(fault.region);
        if (region >= 0) this.regionDown[region].push(window);
      }
    });
  }

  /** The outage window of a region at `t`, if it is down. */
  private down(region: number, t: number): Window | undefined {
    return this.regionDown[region].find((w) => t >= w.from && t < w.to);
  }

  /**
   * The unit that takes a stream's request at `t`, or undefined when the client cannot reach a
   * working gateway (an error without a backend call).
   */
  unitFor(stream: number, t: number): number | undefined {
    const home = this.regionOfStream[stream];
    let region = home;
    const outage = this.down(home, t);
    if (outage) {
      if (t < outage.from + this.p.regionFailoverSeconds * 1000) return undefined;
      const others = this.regions
        .map((_, i) => i)
        .filter((i) => i !== home && !this.down(i, t))
        .sort(
          (a, b) =>
            Number(!this.sameArea(this.regions[home].name, this.regions[a].name)) -
            Number(!this.sameArea(this.regions[home].name, this.regions[b].name)),
        );
      if (others.length === 0) return undefined;
      region = others[0];
    }
    const own = this.units.map((u, i) => ({ u, i })).filter(({ u }) => u.region === region);
    const zoneWindow = (unit: UnitPlace) =>
      this.zoneDown.find(
        (z) => z.region === unit.region && z.zone === unit.zone && t >= z.window.from && t < z.window.to,
      )?.window;
    // After the load balancer has noticed, a failed zone's units get nothing.
    const usable = own.filter(({ u }) => {
      const w = zoneWindow(u);
      return !w || t < w.from + this.p.zoneFailoverSeconds * 1000;
    });
    if (usable.length === 0) return undefined;
    const pick = usable[this.nextUnit[region]++ % usable.length];
    return zoneWindow(pick.u) ? undefined : pick.i;
  }

  /** Region names of the units, for the report. */
  unitRegions(): string[] {
    return this.units.map((u) => this.regions[u.region].name);
  }

  /** This region's priority for a member of a deployment's pool. */
  priority(region: number, deployment: string, member: string, fallback: number): number {
    return this.regions[region].priorities?.[deployment]?.[member] ?? fallback;
  }
}
