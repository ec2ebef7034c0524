using System.Net;
using System.Net.Http.Json;
using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using SkiaSharp;

namespace BananaLab.Tests.Generation;

/// <summary>
/// A provider's declared capabilities drive pricing, submission and <c>/api/v1/models</c>: a remote-like model with two
/// aspect ratios and no diffusion parameters beside the scripted diffusion-like test model, over real HTTP and SQLite.
/// </summary>
public sealed class ProviderCapabilitiesTests(RemoteProviderFactory factory) : IClassFixture<RemoteProviderFactory>
{
    private const string Remote = RemoteProviderFactory.RemoteModel;

    [Fact]
    public async Task Models_say_what_each_provider_takes()
    {
        using var client = factory.CreateClient(BananaLabFactory.AdminApiKey);
        var models = (await (await client.GetAsync("/api/v1/models")).ReadJsonAsync()).EnumerateArray().ToList();

        var remote = models.Single(m => m.GetProperty("id").GetString() == Remote);
        var capabilities = remote.GetProperty("capabilities");
        Assert.Equal(["1:1", "16:9"], capabilities.GetProperty("aspectRatios").EnumerateArray().Select(r => r.GetString()));
        foreach (var absent in new[] { "exactSizes", "seed", "steps", "guidance", "negativePrompt", "masks", "progress", "previews" })
            Assert.False(capabilities.GetProperty(absent).GetBoolean(), absent);
        Assert.Equal(0, capabilities.GetProperty("maxReferenceImages").GetInt32());
        Assert.Equal(1, remote.GetProperty("maxImages").GetInt32()); // the catalog allows 4; one call makes one
        Assert.Equal(System.Text.Json.JsonValueKind.Null, remote.GetProperty("defaultSteps").ValueKind);
        Assert.False(remote.GetProperty("acceptsReferenceImage").GetBoolean());

        var diffusion = models.Single(m => m.GetProperty("id").GetString() == BananaLabFactory.TestModel).GetProperty("capabilities");
        Assert.True(diffusion.GetProperty("seed").GetBoolean() && diffusion.GetProperty("steps").GetBoolean() && diffusion.GetProperty("previews").GetBoolean());
        Assert.Equal(5, diffusion.GetProperty("aspectRatios").GetArrayLength());
    }

    [Theory]
    [InlineData("size=1K&aspectRatio=4:3", "invalid_aspect_ratio")]
    [InlineData("width=640&height=480", "invalid_size")]
    [InlineData("size=1K&count=2", "count_out_of_range")]
    public async Task Pricing_refuses_what_the_provider_does_not_make(string query, string code)
    {
        using var client = factory.CreateClient(BananaLabFactory.AdminApiKey);
        var response = await client.GetAsync($"/api/v1/pricing?model={Remote}&{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(code, (await response.ReadJsonAsync()).GetProperty("code").GetString());

        var offered = await (await client.GetAsync($"/api/v1/pricing?model={Remote}&size=2K&aspectRatio=16:9")).ReadJsonAsync();
        Assert.Equal((2048, 1152, 6), (offered.GetProperty("width").GetInt32(), offered.GetProperty("height").GetInt32(), offered.GetProperty("total").GetInt32()));
    }

    [Fact]
    public async Task An_exact_size_that_is_a_tier_at_an_offered_ratio_is_that_tier_for_a_model_of_tier_sizes()
    {
        using var client = factory.CreateClient(BananaLabFactory.AdminApiKey);

        // An OpenAI client's "1024x1024" (and 2K at 16:9) reads as the tier; the same image at the same price.
        var square = await (await client.GetAsync($"/api/v1/pricing?model={Remote}&width=1024&height=1024")).ReadJsonAsync();
        Assert.Equal((1024, 1024, 3), (square.GetProperty("width").GetInt32(), square.GetProperty("height").GetInt32(), square.GetProperty("total").GetInt32()));
        var wide = await (await client.GetAsync($"/api/v1/pricing?model={Remote}&width=2048&height=1152")).ReadJsonAsync();
        Assert.Equal((2048, 1152, 6), (wide.GetProperty("width").GetInt32(), wide.GetProperty("height").GetInt32(), wide.GetProperty("total").GetInt32()));
        // A tier's size at a ratio the provider does not make is still refused.
        var portrait = await client.GetAsync($"/api/v1/pricing?model={Remote}&width=768&height=1024");
        Assert.Equal("invalid_size", (await portrait.ReadJsonAsync()).GetProperty("code").GetString());
    }

    public static TheoryData<string, object> NotTaken => new()
    {
        { "invalid_seed", new { model = Remote, prompt = "a fern", seed = 7 } },
        { "invalid_steps", new { model = Remote, prompt = "a fern", steps = 20 } },
        { "invalid_guidance", new { model = Remote, prompt = "a fern", guidance = 5.0 } },
        { "negative_prompt_not_accepted", new { model = Remote, prompt = "a fern", negativePrompt = "blurry" } },
        { "reference_not_accepted", new { model = Remote, prompt = "a fern", referenceImage = Convert.ToBase64String(ScriptedGenerator.TinyPng) } },
    };

    [Theory]
    [MemberData(nameof(NotTaken))]
    public async Task Submission_refuses_a_parameter_the_model_does_not_take_and_charges_nothing(string code, object body)
    {
        var (_, key) = await factory.CreateUserAsync(credits: 50);
        using var client = factory.CreateClient(key);

        var response = await client.PostAsJsonAsync("/api/v1/tasks", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(code, (await response.ReadJsonAsync()).GetProperty("code").GetString());
        Assert.Equal(50, (await (await client.GetAsync("/api/v1/credits")).ReadJsonAsync()).GetProperty("balance").GetInt32());
    }

    [Fact]
    public async Task A_task_of_a_remote_like_model_stores_no_diffusion_parameters_and_its_image_is_finished_to_the_exact_size()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);

        var task = await client.SubmitAsync(new { model = Remote, prompt = "a fern", size = "1K", aspectRatio = "16:9", outputFormat = "jpeg" });
        var done = await client.WaitForTerminalAsync(task.Id);

        Assert.Equal("succeeded", done.Status);
        Assert.Equal((0L, 0, 0.0), (done.Seed, done.Steps, done.Guidance));
        var image = await client.GetByteArrayAsync($"/api/v1/tasks/{task.Id}/images/0");
        using var codec = SKCodec.Create(new SKMemoryStream(image));
        Assert.Equal((SKEncodedImageFormat.Jpeg, 1024, 576), (codec.EncodedFormat, codec.Info.Width, codec.Info.Height));
    }

    [Fact]
    public void Two_providers_of_one_name_stop_start_up()
    {
        var catalog = new ModelCatalog(Microsoft.Extensions.Options.Options.Create(new ModelCatalogOptions()));
        var error = Assert.Throws<InvalidOperationException>(() => new GenerationProviders([new RemoteLikeGenerator(), new RemoteLikeGenerator()], catalog));
        Assert.Contains("Two generators call themselves 'remote-test'", error.Message);
    }

    [Fact]
    public void A_declaration_that_contradicts_itself_is_refused()
    {
        Assert.Null(GenerationCapabilities.Diffusion(1, 4).Problem());
        Assert.Equal("it offers no aspect ratio and no exact sizes", new GenerationCapabilities { AspectRatios = [] }.Problem());
        Assert.Contains("2:1 is not an aspect ratio", new GenerationCapabilities { AspectRatios = [new AspectRatio(2, 1)] }.Problem());
        Assert.Equal("masks need a reference image to apply to", new GenerationCapabilities { Masks = true }.Problem());
        Assert.Equal("previews travel with progress reports", new GenerationCapabilities { Previews = true }.Problem());
    }
}
