using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;
using SkiaSharp;
using static BananaLab.Tests.Inference.InferenceTestModels;

namespace BananaLab.Tests.Inference.StableDiffusion;

/// <summary>
/// banana-nano-turbo as the shipped catalog (appsettings.json) defines it: banana-nano's text encoder, lexicon and
/// autoencoder (links into its folder) with a distilled UNet that runs 4 steps without guidance.
/// </summary>
public sealed class BananaNanoTurboTests(NanoPipelineFixture fixture) : IClassFixture<NanoPipelineFixture>
{
    private async Task<(byte[] Image, RecordingProgress Progress)> Generate(ModelDefinition model, long seed, string prompt = "a cat next to a banana")
    {
        var output = new MemoryImageOutput();
        var progress = new RecordingProgress();
        await fixture.Generator.GenerateAsync(new GenerationRequest(Guid.NewGuid(), model, prompt, null, 256, 256, 1, seed,
            model.DefaultSteps, model.DefaultGuidance, OutputFormat.Png, null, 0), progress, output, CancellationToken.None);
        return (output.Bytes(0), progress);
    }

    [Fact]
    public void The_turbo_folder_reads_banana_nanos_text_encoder_lexicon_and_autoencoder()
    {
        var (nano, turbo) = (Catalog("banana-nano"), Catalog("banana-nano-turbo"));
        foreach (var part in new[] { "text_encoder/model.onnx", "tokenizer/lexicon.tsv.gz", "vae_decoder/model.onnx", "vae_encoder/model.onnx", "preview/latent_rgb.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(nano.Path, part)), File.ReadAllBytes(Path.Combine(turbo.Path, part)));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(nano.Path, "unet/model.onnx")), File.ReadAllBytes(Path.Combine(turbo.Path, "unet/model.onnx")));
        Assert.Equal((4, 1.0, 128), (turbo.DefaultSteps, turbo.DefaultGuidance, turbo.NativeWidth));
    }

    [Fact]
    public async Task Turbo_denoises_in_its_four_steps_and_two_seeds_differ()
    {
        var turbo = Catalog("banana-nano-turbo");

        var (first, progress) = await Generate(turbo, seed: 1);
        var (second, _) = await Generate(turbo, seed: 2);

        Assert.Equal([1, 2, 3, 4], progress.Reports.Where(r => r.Phase == GenerationPhase.Denoising).Select(r => r.Step));
        using (var image = SKBitmap.Decode(first)) Assert.Equal((256, 256), (image.Width, image.Height));
        var seeds = StableDiffusionPipelineTests.MeanAbsoluteDifference(first, second);
        Assert.True(seeds > 3.0, $"two seeds of one prompt differ by {seeds:F2} of 255 on average");
    }

    [Fact]
    public async Task Turbo_and_banana_nano_make_different_images_from_one_seed()
    {
        var (nano, _) = await Generate(Catalog("banana-nano"), seed: 5);
        var (turbo, _) = await Generate(Catalog("banana-nano-turbo"), seed: 5);

        Assert.NotEqual(nano, turbo);
    }
}
