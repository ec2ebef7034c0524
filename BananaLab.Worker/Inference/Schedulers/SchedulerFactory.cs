namespace BananaLab.Worker.Inference.Schedulers;

/// <summary>Picks the scheduler from the catalog's override or the model's <c>_class_name</c>.</summary>
public static class SchedulerFactory
{
    /// <summary>The names <c>Models:*:Scheduler</c> accepts, as the README lists them.</summary>
    public static readonly IReadOnlyList<string> CatalogNames = ["euler", "euler-ancestral", "ddim", "lcm"];

    public static DiffusionScheduler Create(SchedulerConfig config, string? catalogOverride, int steps)
    {
        if (string.IsNullOrWhiteSpace(catalogOverride))
            // Other diffusers schedulers of a model's own config (PNDM, DPM-Solver...) sample the same trained model well with Euler.
            return Known(config.ClassName, config, steps) ?? new EulerDiscreteScheduler(config, steps);
        return Known(catalogOverride, config, steps)
               ?? throw new ArgumentException($"'{catalogOverride}' is not a scheduler; use {string.Join(", ", CatalogNames)}.", nameof(catalogOverride));
    }

    /// <summary>Whether a catalog override names a scheduler (the start-up check of <c>Models:*:Scheduler</c>).</summary>
    public static bool IsKnown(string name) => Kind(name) is not null;

    private static DiffusionScheduler? Known(string name, SchedulerConfig config, int steps) => Kind(name) switch
    {
        "euler" => new EulerDiscreteScheduler(config, steps),
        "euler-ancestral" => new EulerAncestralScheduler(config, steps),
        "lcm" => new LcmScheduler(config, steps),
        "ddim" => new DdimScheduler(config, steps),
        _ => null,
    };

    private static string? Kind(string name) => name.Trim().ToLowerInvariant() switch
    {
        "euler" or "eulerdiscretescheduler" => "euler",
        "euler-ancestral" or "euler_a" or "euler-a" or "eulerancestraldiscretescheduler" => "euler-ancestral",
        "lcm" or "lcmscheduler" => "lcm",
        "ddim" or "ddimscheduler" => "ddim",
        _ => null,
    };
}
