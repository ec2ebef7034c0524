using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;
using static BananaLab.Tests.Inference.InferenceTestModels;

namespace BananaLab.Tests.Inference.StableDiffusion;

/// <summary>
/// Several tasks' requests in shared UNet calls (issue 17, adaptive batching), through the real ONNX Runtime on banana-nano:
/// each member's images are byte-identical to its run alone, and a member's cancellation or failure stays its own.
/// </summary>
public sealed class SharedRunTests(NanoPipelineFixture fixture) : IClassFixture<NanoPipelineFixture>
{
    private async Task<MemoryImageOutput> Alone(GenerationRequest request)
    {
        var output = new MemoryImageOutput();
        await fixture.Generator.GenerateAsync(request, new RecordingProgress(), output, default);
        return output;
    }

    private static (GenerationRequest, IGenerationProgress, IImageOutput, CancellationToken) Member(GenerationRequest request,
        IImageOutput output, IGenerationProgress? progress = null, CancellationToken cancellationToken = default) =>
        (request, progress ?? new RecordingProgress(), output, cancellationToken);

    [Fact]
    public async Task Each_member_of_a_shared_run_is_byte_identical_to_its_run_alone()
    {
        // Different prompts, negative prompts, guidance, image counts and output sizes: only the model and steps are shared.
        GenerationRequest[] requests =
        [
            Request(256, 256, count: 1, seed: 5, steps: 3, prompt: "red apple"),
            Request(512, 384, count: 2, seed: 9, steps: 3, guidance: 7.5, prompt: "blue car on a road", negative: "blurry"),
            Request(256, 256, count: 1, seed: 5, steps: 3, guidance: 3, prompt: "a yellow banana"),
        ];
        var outputs = requests.Select(_ => new MemoryImageOutput()).ToArray();
        var progress = requests.Select(_ => new RecordingProgress()).ToArray();

        var runs = fixture.Generator.GenerateBatch(requests.Select((r, i) => Member(r, outputs[i], progress[i])).ToList());
        var results = await Task.WhenAll(runs);

        for (var m = 0; m < requests.Length; m++)
        {
            var alone = await Alone(requests[m]);
            Assert.Equal(requests[m].ImageCount, results[m].Images.Count);
            for (var i = 0; i < requests[m].ImageCount; i++) Assert.Equal(alone.Bytes(i), outputs[m].Bytes(i));
            // Each member reports its own steps and previews.
            Assert.Equal([1, 2, 3], progress[m].Reports.Where(r => r.Phase == GenerationPhase.Denoising).Select(r => r.Step));
            Assert.All(progress[m].Reports.Where(r => r.Phase == GenerationPhase.Denoising), r => Assert.NotNull(r.PreviewPng));
        }
    }

    [Fact]
    public async Task A_canceled_member_leaves_at_the_next_step_and_the_others_finish_unchanged()
    {
        using var cancel = new CancellationTokenSource();
        var leaving = new RecordingProgress { OnReport = r => { if (r is { Phase: GenerationPhase.Denoising, Step: 2 }) cancel.Cancel(); } };
        var staying = Request(256, 256, seed: 21, steps: 6, prompt: "green hills");
        var staysOutput = new MemoryImageOutput();

        var runs = fixture.Generator.GenerateBatch(
        [
            Member(Request(256, 256, seed: 20, steps: 6, prompt: "a red boat"), new MemoryImageOutput(), leaving, cancel.Token),
            Member(staying, staysOutput),
        ]);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runs[0]);
        Assert.Equal(2, leaving.Reports.Count(r => r.Phase == GenerationPhase.Denoising));
        await runs[1];
        Assert.Equal((await Alone(staying)).Bytes(0), staysOutput.Bytes(0));
    }

    [Fact]
    public async Task A_member_that_fails_fails_alone()
    {
        var healthy = Request(256, 256, seed: 31, steps: 2, prompt: "a white cat");
        var healthyOutput = new MemoryImageOutput();

        var runs = fixture.Generator.GenerateBatch(
        [
            Member(Request(256, 256, seed: 30, steps: 2, prompt: "a black dog"), new FailingOutput()),
            Member(healthy, healthyOutput),
        ]);

        await Assert.ThrowsAsync<IOException>(() => runs[0]);
        await runs[1];
        Assert.Equal((await Alone(healthy)).Bytes(0), healthyOutput.Bytes(0));
    }

    [Fact]
    public void Banana_nano_shares_runs_its_graph_has_an_open_batch_axis()
    {
        Assert.True(fixture.Generator.Generator.SharesRuns(Nano()));
    }

    /// <summary>A disk that refuses the member's file.</summary>
    private sealed class FailingOutput : IImageOutput
    {
        public Stream Create(int index) => throw new IOException("No space left on device.");
    }
}
