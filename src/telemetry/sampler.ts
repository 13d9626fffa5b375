import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, type Sampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';

/** The samplers `OTEL_TRACES_SAMPLER` names (the SDK spec's list, less the vendor ones). */
export const samplerNames = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;

/**
 * The sampler `OTEL_TRACES_SAMPLER` (and `OTEL_TRACES_SAMPLER_ARG`, the ratio) names; default
 * `parentbased_always_on`, so a child follows its parent's decision in every process.
 * An unknown name is reported with `warn` and the default is used.
 */
export function samplerFrom(setting: { name: string; arg?: string } | undefined, warn: (line: string) => void): Sampler {
  const ratio = (): number => {
    const value = Number(setting?.arg ?? 1);
    return Number.isFinite(value) && value >= 0 && value <= 1 ? value : 1;
  };
  switch (setting?.name ?? 'parentbased_always_on') {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio());
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    default:
      warn(`OTEL_TRACES_SAMPLER: unknown sampler "${setting?.name}"; known: ${samplerNames.join(', ')}; using parentbased_always_on`);
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}
