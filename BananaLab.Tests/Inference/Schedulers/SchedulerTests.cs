using BananaLab.Core.Catalog;
using BananaLab.Tests.Infrastructure;
using BananaLab.Worker.Inference.Schedulers;
using Microsoft.Extensions.Options;

namespace BananaLab.Tests.Inference.Schedulers;

/// <summary>
/// Expected values printed by tools/scheduler-reference/scheduler_reference.py (the diffusers
/// formulas re-stated with numpy).
/// </summary>
public sealed class SchedulerTests
{
    private static SchedulerConfig Config(string schedule = "scaled_linear", string spacing = "leading", int offset = 0,
        string prediction = "epsilon") =>
        new() { BetaSchedule = schedule, BetaStart = 0.00085, BetaEnd = 0.012, TimestepSpacing = spacing, StepsOffset = offset, PredictionType = prediction };

    private static void Close(double[] expected, IEnumerable<double> actual, double relative = 2e-5)
    {
        var values = actual.ToArray();
        Assert.Equal(expected.Length, values.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - values[i]) <= relative * Math.Max(1e-3, Math.Abs(expected[i])),
                $"index {i}: expected {expected[i]}, got {values[i]}");
    }

    [Theory]
    [InlineData("scaled_linear", new[] { 0.99914998, 0.99829602, 0.27766952, 0.0047166897, 0.0046600895 })]
    [InlineData("squaredcos_cap_v2", new[] { 0.99995869, 0.99991256, 0.49384311, 2.4287642e-06, 2.428733e-09 })]
    [InlineData("linear", new[] { 0.99914998, 0.99828953, 0.16181205, 0.0015981399, 0.0015789622 })]
    public void Alphas_cumprod_match_diffusers_for_each_beta_schedule(string schedule, double[] expected)
    {
        var cumprod = NoiseSchedule.AlphasCumprod(Config(schedule));
        Close(expected, new[] { 0, 1, 499, 998, 999 }.Select(i => cumprod[i]), 1e-4);
    }

    [Theory]
    [InlineData("leading", 1, new[] { 901, 801, 701, 601, 501, 401, 301, 201, 101, 1 })]
    [InlineData("trailing", 0, new[] { 999, 899, 799, 699, 599, 499, 399, 299, 199, 99 })]
    [InlineData("linspace", 0, new[] { 999, 888, 777, 666, 555, 444, 333, 222, 111, 0 })]
    public void Ddim_timesteps_match_diffusers_for_each_spacing(string spacing, int offset, int[] expected)
    {
        var scheduler = new DdimScheduler(Config(spacing: spacing, offset: offset), 10);
        Assert.Equal(expected.Select(t => (double)t), scheduler.Timesteps);
    }

    [Theory]
    [InlineData("leading", 1, new[] { 901.0, 801, 701, 601, 501, 401, 301, 201, 101, 1 },
        new[] { 8.3906927, 5.1344352, 3.3477654, 2.2928548, 1.6236926, 1.1682165, 0.83565277, 0.57405055, 0.34618717, 0.041314479, 0 }, 8.4500724)]
    [InlineData("trailing", 0, new[] { 999.0, 899, 799, 699, 599, 499, 399, 299, 199, 99 },
        new[] { 14.614655, 8.3028107, 5.0877671, 3.321085, 2.2764637, 1.6128867, 1.1605788, 0.82985955, 0.56928521, 0.3416743, 0 }, 14.614655)]
    [InlineData("linspace", 0, new[] { 999.0, 888, 777, 666, 555, 444, 333, 222, 111, 0 },
        new[] { 14.614655, 7.8398895, 4.6091776, 2.9183085, 1.9501621, 1.3449283, 0.93235815, 0.62497711, 0.36865819, 0.029167533, 0 }, 14.614655)]
    public void Euler_timesteps_and_sigmas_match_diffusers_for_scaled_linear(string spacing, int offset, double[] timesteps,
        double[] sigmas, double initSigma)
    {
        var scheduler = new EulerDiscreteScheduler(Config(spacing: spacing, offset: offset), 10);
        Close(timesteps, scheduler.Timesteps);
        Close(sigmas, scheduler.Sigmas, 1e-4);
        Close([initSigma], [scheduler.InitNoiseSigma], 1e-4);
    }

    [Fact]
    public void Euler_sigmas_match_diffusers_for_squaredcos()
    {
        var scheduler = new EulerDiscreteScheduler(Config("squaredcos_cap_v2", "trailing", prediction: "v_prediction"), 4);
        Close([999, 749, 499, 249], scheduler.Timesteps);
        // The first sigma sits on the capped last beta, where float32 rounding is largest.
        Close([20291.311, 2.4354365, 1.0123906, 0.4249953, 0], scheduler.Sigmas, 1e-3);
    }

    [Theory]
    [InlineData(4, new[] { 999, 759, 499, 259 })]
    [InlineData(6, new[] { 999, 839, 679, 499, 339, 179 })]
    public void Lcm_timesteps_match_diffusers(int steps, int[] expected)
    {
        var scheduler = new LcmScheduler(Config(), steps);
        Assert.Equal(expected.Select(t => (double)t), scheduler.Timesteps);
    }

    [Fact]
    public void Ddim_v_prediction_step_matches_the_reference_sampler()
    {
        // tools/train-nano/sample.py ddim_step: x0 = √a·x − √(1−a)·v, eps = √a·v + √(1−a)·x, next = √a'·x0 + √(1−a')·eps
        var config = Config("squaredcos_cap_v2", "trailing", prediction: "v_prediction") with { SetAlphaToOne = false };
        var scheduler = new DdimScheduler(config, 4);
        var ac = scheduler.AlphasCumprod;
        const double x = 0.7, v = -0.3;
        for (var step = 0; step < 4; step++)
        {
            var t = (int)scheduler.Timesteps[step];
            var previous = t - 250;
            double a = ac[t], ap = previous >= 0 ? ac[previous] : ac[0];
            var x0 = Math.Sqrt(a) * x - Math.Sqrt(1 - a) * v;
            var eps = Math.Sqrt(a) * v + Math.Sqrt(1 - a) * x;
            var expected = Math.Sqrt(ap) * x0 + Math.Sqrt(1 - ap) * eps;
            var c = scheduler.Coefficients(step);
            Assert.Equal(expected, c.Sample * x + c.Model * v, 9);
        }
    }

    [Theory]
    [InlineData("DDIMScheduler", null, typeof(DdimScheduler))]
    [InlineData("DDIMScheduler", "euler", typeof(EulerDiscreteScheduler))]
    [InlineData("DDIMScheduler", "euler-ancestral", typeof(EulerAncestralScheduler))]
    [InlineData("EulerDiscreteScheduler", "lcm", typeof(LcmScheduler))]
    [InlineData("LCMScheduler", "", typeof(LcmScheduler))]
    public void Scheduler_comes_from_the_catalog_override_or_the_model_config(string className, string? catalog, Type expected)
    {
        var scheduler = SchedulerFactory.Create(Config() with { ClassName = className }, catalog, 4);
        Assert.IsType(expected, scheduler);
    }

    [Fact]
    public void An_unknown_catalog_scheduler_is_refused_instead_of_running_as_euler()
    {
        var error = Assert.Throws<ArgumentException>(() => SchedulerFactory.Create(Config(), "eular", 4));
        Assert.Contains("'eular' is not a scheduler", error.Message);
    }

    [Fact]
    public void A_model_config_of_another_diffusers_scheduler_still_samples_with_euler()
    {
        Assert.IsType<EulerDiscreteScheduler>(SchedulerFactory.Create(Config() with { ClassName = "PNDMScheduler" }, null, 4));
    }

    [Fact]
    public void An_unknown_catalog_scheduler_stops_start_up_naming_the_key()
    {
        using var factory = new CatalogFactory(new() { ["Models:banana-nano:Scheduler"] = "eular" });
        var error = Assert.Throws<OptionsValidationException>(() => factory.Server);
        Assert.Contains("Models:banana-nano:Scheduler 'eular' is not a scheduler", error.Message);
    }

    [Fact]
    public void Each_scheduler_name_the_readme_lists_starts()
    {
        foreach (var name in SchedulerFactory.CatalogNames)
        {
            var result = new SchedulerCatalogValidator().Validate(null, Catalog(name));
            Assert.True(result.Succeeded, result.FailureMessage);
        }
        Assert.True(new SchedulerCatalogValidator().Validate(null, Catalog("eular")).Failed);
    }

    private static ModelCatalogOptions Catalog(string scheduler)
    {
        var options = new ModelCatalogOptions();
        options.Models["m"] = new ModelDefinition { Provider = "onnx", Scheduler = scheduler };
        return options;
    }

    private sealed class CatalogFactory(Dictionary<string, string?> settings) : BananaLabFactory
    {
        protected override IDictionary<string, string?> Settings => settings;
    }

    [Fact]
    public void Euler_ancestral_adds_noise_between_steps_and_none_at_the_end()
    {
        var scheduler = new EulerAncestralScheduler(Config(spacing: "trailing"), 4);
        Assert.True(scheduler.Coefficients(0).Noise > 0);
        Assert.Equal(0, scheduler.Coefficients(3).Noise);
    }
}
