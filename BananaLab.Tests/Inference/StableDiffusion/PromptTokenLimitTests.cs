using BananaLab.Core.Generation;
using BananaLab.Tests.Infrastructure;
using BananaLab.Worker.Inference.Runtime;
using static BananaLab.Tests.Inference.InferenceTestModels;

namespace BananaLab.Tests.Inference.StableDiffusion;

/// <summary>
/// A model's prompt limit comes from its UNet file's text-context axis, read without loading the weights: banana-nano's is
/// a fixed 77 (75 prompt tokens), a graph with an open axis has none and long prompts are chunked.
/// </summary>
public sealed class PromptTokenLimitTests
{
    [Fact]
    public void The_unet_inputs_are_read_from_the_file_as_onnx_runtime_reads_them()
    {
        var path = Path.Combine(NanoFolder, "unet", "model.onnx");
        var fromFile = OnnxGraphInputs.Read(path);

        using var generation = CreateGenerator();
        var fromSession = generation.Models.Get(Nano()).Unet.Inputs;
        Assert.Equal(fromSession.Select(p => p.Name).Order(), fromFile.Keys.Order());
        foreach (var port in fromSession)
            Assert.Equal(port.Dimensions.Select(d => d > 0 ? (long)d : -1), fromFile[port.Name]);
        Assert.Equal(77, fromFile["encoder_hidden_states"][1]);
    }

    [Fact]
    public void Banana_nano_reads_75_prompt_tokens_and_counts_them_with_its_own_tokenizer()
    {
        using var generation = CreateGenerator();
        var model = Nano();

        // banana-nano's tokens are concept ids: "red apple" is one (the emoji's name), "a cat" is the eleven cat emoji.
        Assert.Equal(new PromptTokens(1, 75), generation.Generator.CountPromptTokens(model, "red apple"));
        Assert.Equal(new PromptTokens(11, 75), generation.Generator.CountPromptTokens(model, "a cat"));
        // 76 times "red apple" is one past its context.
        var tooLong = generation.Generator.CountPromptTokens(model, string.Concat(Enumerable.Repeat("red apple ", 76)));
        Assert.Equal(new PromptTokens(76, 75), tooLong);
        Assert.True(tooLong!.Exceeds);
    }

    [Fact]
    public void A_unet_with_an_open_context_axis_has_no_limit()
    {
        // Data/open-context-unet.onnx: sample, timestep and encoder_hidden_states [batch, sequence, 8], as Optimum exports them.
        using var temp = new TempDirectory();
        var folder = Path.Combine(temp.Path, "open");
        CopyFolder(NanoFolder, folder, file => !file.Contains($"{Path.DirectorySeparatorChar}unet{Path.DirectorySeparatorChar}"));
        Directory.CreateDirectory(Path.Combine(folder, "unet"));
        File.Copy(DataFile("open-context-unet.onnx"), Path.Combine(folder, "unet", "model.onnx"));
        using var generation = CreateGenerator();

        var tokens = generation.Generator.CountPromptTokens(Nano(folder), string.Concat(Enumerable.Repeat("red apple ", 45)));

        Assert.Equal(new PromptTokens(45, null), tokens);
        Assert.False(tokens!.Exceeds);
    }

    [Fact]
    public void A_file_that_is_not_protobuf_is_refused_clearly()
    {
        using var temp = new TempDirectory();
        var path = Path.Combine(temp.Path, "model.onnx");
        File.WriteAllBytes(path, [0x0F, 0xFF, 0xFF]);

        Assert.Throws<InvalidDataException>(() => OnnxGraphInputs.Read(path));
    }
}
