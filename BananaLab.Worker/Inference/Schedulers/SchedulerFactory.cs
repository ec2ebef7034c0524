namespace BananaLab.Worker.Inference.Schedulers;

/// <summary>Picks the scheduler from the catalog's override or the model's <c>_class_name</c>.</summary>
public static class SchedulerFactory
{
    public static DiffusionScheduler Create(SchedulerConfig config, string? catalogOverride, int steps)
    {
        var name = string.IsNullOrWhiteSpace(catalogOverride) ? config.ClassName : catalogOverride;
        return name.Trim().ToLowerInvariant() switch
        {
            "euler" or "eulerdiscretescheduler" => new EulerDiscreteScheduler(config, steps),
            "euler-ancestral" or "euler_a" or "euler-a" or "eulerancestraldiscretescheduler" => new EulerAncestralScheduler(config, steps),
            "lcm" or "lcmscheduler" => new LcmScheduler(config, steps),
            "ddim" or "ddimscheduler" => new DdimScheduler(config, steps),
            // Other diffusers schedulers (PNDM, DPM-Solver...) sample the same trained model well with Euler.
            _ => new EulerDiscreteScheduler(config, steps),
        };
    }
}
