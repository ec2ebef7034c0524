using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;

namespace BananaLab.Tests.Tasks;

/// <summary>The measured run times behind percent and ETA; only recorded numbers, never the clock.</summary>
public sealed class TaskEtaTests
{
    private static readonly RunShape OneK = new(20, 1, 1024, 1024);

    private static GenerationTimings Measured(string model = "m")
    {
        var timings = new GenerationTimings();
        timings.Record(model, new RunTiming(OneK, SecondsPerStep: 0.5, UpscaleSeconds: 2, EncodeSeconds: 1));
        return timings;
    }

    [Fact]
    public void A_queued_task_expects_longer_the_more_tasks_are_ahead_of_it()
    {
        var timings = Measured();
        var estimate = timings.Estimate("m", OneK);

        var etas = Enumerable.Range(0, 5).Select(ahead => TaskEta.ForQueued(estimate, Enumerable.Repeat(estimate, ahead), [4.0])).ToList();

        Assert.All(etas, eta => Assert.NotNull(eta));
        Assert.All(etas.Zip(etas.Skip(1)), pair => Assert.True(pair.Second > pair.First, $"{pair.First} then {pair.Second}"));
        // 10 s denoising + 2 s upscaling + 1 s encoding each; 4 s left of the running one; one worker.
        Assert.Equal(4 + 2 * 13 + 13, etas[2]);
    }

    [Fact]
    public void Running_tasks_share_the_queue_out_over_their_workers()
    {
        var estimate = Measured().Estimate("m", OneK);
        var oneWorker = TaskEta.ForQueued(estimate, [estimate, estimate], [4.0]);
        var twoWorkers = TaskEta.ForQueued(estimate, [estimate, estimate], [4.0, 4.0]);
        Assert.True(twoWorkers < oneWorker);
    }

    [Fact]
    public void No_eta_before_a_model_has_finished_a_run()
    {
        var timings = Measured();
        Assert.Null(timings.Estimate("never-run", OneK));
        Assert.Null(TaskEta.ForQueued(null, [], []));
        Assert.Null(TaskEta.ForQueued(timings.Estimate("m", OneK), [timings.Estimate("never-run", OneK)], []));
        Assert.Null(RunEstimate.Unmeasured.SecondsLeftAt(new GenerationProgress(1, 2)));
    }

    [Fact]
    public void The_first_run_stands_in_until_the_second_replaces_it_then_runs_are_averaged()
    {
        var timings = new GenerationTimings();
        // A cold first run (sessions created, code JIT-compiled): slow.
        timings.Record("m", new RunTiming(OneK, SecondsPerStep: 1.5, UpscaleSeconds: 6, EncodeSeconds: 1));
        Assert.Equal(1.5 * 20, timings.Estimate("m", OneK)!.DenoiseSeconds, precision: 6);

        timings.Record("m", new RunTiming(OneK, SecondsPerStep: 0.5, UpscaleSeconds: 2, EncodeSeconds: 1));
        var second = timings.Estimate("m", OneK)!;
        Assert.Equal(0.5 * 20, second.DenoiseSeconds, precision: 6);
        Assert.Equal(2, second.UpscaleSeconds, precision: 6);

        timings.Record("m", new RunTiming(OneK, SecondsPerStep: 1.5, UpscaleSeconds: 2, EncodeSeconds: 1));
        // 0.5 s per step, then 1.5 s with weight 0.3: 0.8 s per step.
        Assert.Equal(0.8 * 20, timings.Estimate("m", OneK)!.DenoiseSeconds, precision: 6);
    }

    [Fact]
    public void Finishing_scales_with_output_megapixels_and_is_learned_per_size_tier()
    {
        var timings = Measured();
        var two = timings.Estimate("m", OneK with { ImageCount = 2 })!;
        Assert.Equal(4, two.UpscaleSeconds, precision: 6);
        Assert.Equal(20, two.DenoiseSeconds, precision: 6);

        var fourK = new RunShape(20, 1, 4096, 4096);
        timings.Record("m", new RunTiming(fourK, SecondsPerStep: 0.5, UpscaleSeconds: 64, EncodeSeconds: 16));
        Assert.Equal(2, timings.Estimate("m", OneK)!.UpscaleSeconds, precision: 6);
        Assert.Equal(64, timings.Estimate("m", fourK)!.UpscaleSeconds, precision: 6);
    }

    [Fact]
    public void Percent_follows_the_phase_weights_and_never_reaches_100_before_the_result_is_stored()
    {
        var estimate = new RunEstimate(DenoiseSeconds: 4, UpscaleSeconds: 4, EncodeSeconds: 2);

        Assert.Equal(20, estimate.PercentAt(new GenerationProgress(10, 20)));
        Assert.Equal(40, estimate.PercentAt(new GenerationProgress(20, 20)));
        Assert.Equal(40, estimate.PercentAt(GenerationProgress.Upscaling(0, 2)));
        Assert.Equal(60, estimate.PercentAt(GenerationProgress.Encoding(0, 2)));
        Assert.Equal(70, estimate.PercentAt(GenerationProgress.Upscaling(1, 2)));
        Assert.Equal(90, estimate.PercentAt(GenerationProgress.Encoding(1, 2)));
        Assert.Equal(1, estimate.SecondsLeftAt(GenerationProgress.Encoding(1, 2)));
        Assert.Equal(99, new RunEstimate(10, 0, 0).PercentAt(GenerationProgress.Encoding(0, 1)));
    }
}
