using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using BananaLab.Core.Data;
using BananaLab.Core.Images;
using BananaLab.Tests.Inference;
using BananaLab.Tests.Inference.StableDiffusion;
using BananaLab.Tests.Infrastructure;
using BananaLab.Worker.Inference.Imaging;
using Microsoft.EntityFrameworkCore;
using SkiaSharp;

namespace BananaLab.Tests.Images;

/// <summary>
/// <c>referenceFit</c>: a reference wider than the output is cropped to cover it (the default, as before) or fitted whole
/// inside it with bars of its mean colour (contain), from the API down to the pixels the VAE encodes.
/// </summary>
public sealed class ReferenceFitTests(NanoPipelineFixture pipeline, BananaLabFactory factory)
    : IClassFixture<NanoPipelineFixture>, IClassFixture<BananaLabFactory>
{
    private static readonly SKColor Mean = new(125, 30, 125);

    [Fact]
    public void Contain_fits_the_whole_reference_and_pads_with_its_mean_colour()
    {
        using var wide = TestImages.Upright(128, 64);

        using var framed = ImageFraming.Fit(wide, 64, 64, ReferenceFit.Contain);

        Assert.Equal((64, 64), (framed.Width, framed.Height));
        Assert.Equal(Mean, ImageFraming.MeanColour(wide));
        Assert.Equal(Mean, framed.GetPixel(32, 4));
        Assert.Equal(Mean, framed.GetPixel(32, 60));
        Assert.True(TestImages.IsNear(framed.GetPixel(2, 20), TestImages.Top), "the reference's left edge is cut off");
        Assert.True(TestImages.IsNear(framed.GetPixel(61, 44), TestImages.Bottom), "the reference's right edge is cut off");
    }

    [Fact]
    public void Cover_crops_the_reference_to_the_output_aspect()
    {
        using var wide = TestImages.Upright(128, 64);

        using var framed = ImageFraming.Fit(wide, 64, 64, ReferenceFit.Cover);

        Assert.True(TestImages.IsNear(framed.GetPixel(32, 4), TestImages.Top));
        Assert.True(TestImages.IsNear(framed.GetPixel(32, 60), TestImages.Bottom));
    }

    [Fact]
    public void A_mask_is_framed_as_its_reference_and_contains_bars_are_repainted()
    {
        using var temp = new TempDirectory();
        var maskPath = Path.Combine(temp.Path, "keep-all.png");
        using (var keepAll = new SKBitmap(new SKImageInfo(128, 64, SKColorType.Rgba8888, SKAlphaType.Unpremul)))
        {
            keepAll.Erase(SKColors.White);
            using var png = keepAll.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(maskPath, png.ToArray());
        }

        var cover = InpaintMask.Weights(maskPath, 64, 64, ReferenceFit.Cover);
        var contain = InpaintMask.Weights(maskPath, 64, 64, ReferenceFit.Contain);

        Assert.All(cover, w => Assert.Equal(0f, w));
        Assert.Equal(1f, contain[4 * 64 + 32]);
        Assert.Equal(1f, contain[60 * 64 + 32]);
        Assert.Equal(0f, contain[32 * 64 + 32]);
    }

    [Theory]
    [InlineData(ReferenceFit.Contain)]
    [InlineData(ReferenceFit.Cover)]
    public async Task The_pipeline_encodes_the_reference_as_its_fit_frames_it(ReferenceFit fit)
    {
        using var temp = new TempDirectory();
        var reference = Path.Combine(temp.Path, "wide.png");
        File.WriteAllBytes(reference, TestImages.Png(1024, 512));
        var output = new MemoryImageOutput();

        // At strength 0 the output is the reference through the VAE: what the framing made of it, within a few levels.
        await pipeline.Generator.GenerateAsync(InferenceTestModels.Request(1024, 1024, steps: 4, reference: reference, strength: 0) with
        {
            ReferenceFit = fit,
        }, new RecordingProgress(), output, CancellationToken.None);

        using var image = SKBitmap.Decode(output.Bytes(0));
        var bar = image.GetPixel(512, 64);
        Assert.True(TestImages.IsNear(bar, fit == ReferenceFit.Contain ? Mean : TestImages.Top), $"{fit}: the top rows are {bar}");
        Assert.True(TestImages.IsNear(image.GetPixel(512, 384), TestImages.Top), $"{fit}: {image.GetPixel(512, 384)} above the middle");
        Assert.True(TestImages.IsNear(image.GetPixel(512, 640), TestImages.Bottom), $"{fit}: {image.GetPixel(512, 640)} below the middle");
    }

    [Fact]
    public async Task A_turned_reference_stored_before_intake_turned_it_is_used_upright()
    {
        using var temp = new TempDirectory();
        var reference = Path.Combine(temp.Path, "phone.jpg");
        File.WriteAllBytes(reference, TestImages.JpegWithOrientation6(1024, 1024));
        var output = new MemoryImageOutput();

        await pipeline.Generator.GenerateAsync(InferenceTestModels.Request(1024, 1024, steps: 4, reference: reference, strength: 0),
            new RecordingProgress(), output, CancellationToken.None);

        using var image = SKBitmap.Decode(output.Bytes(0));
        TestImages.AssertUpright(image);
    }

    [Fact]
    public async Task A_damaged_reference_stored_before_intake_decoded_it_fails_the_task_instead_of_going_black()
    {
        using var temp = new TempDirectory();
        var reference = Path.Combine(temp.Path, "broken.png");
        File.WriteAllBytes(reference, TestImages.PngWithGarbageIdat(256, 256));

        var error = await Assert.ThrowsAsync<BananaLab.Core.Generation.GenerationException>(() => pipeline.Generator.GenerateAsync(
            InferenceTestModels.Request(1024, 1024, steps: 4, reference: reference, strength: 0.5), new RecordingProgress(), new MemoryImageOutput(),
            CancellationToken.None));

        Assert.Equal("reference_image_unreadable", error.Code);
        Assert.Contains("PNG image data is damaged", error.Message);
    }

    [Theory]
    [InlineData("json", "contain", ReferenceFit.Contain)]
    [InlineData("multipart", "Contain", ReferenceFit.Contain)]
    [InlineData("json", null, ReferenceFit.Cover)]
    [InlineData("multipart", "cover", ReferenceFit.Cover)]
    public async Task The_native_api_takes_referenceFit_into_the_task(string body, string? fit, ReferenceFit stored)
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);

        using var response = await SendAsync(factory.CreateClient(key), body, fit);

        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        Assert.Equal(stored, (await db.Tasks.SingleAsync(t => t.UserId == user.Id)).ReferenceFit);
    }

    [Theory]
    [InlineData("json")]
    [InlineData("multipart")]
    public async Task An_unknown_referenceFit_is_refused_naming_the_field_and_charges_nothing(string body)
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        var client = factory.CreateClient(key);

        using var response = await SendAsync(client, body, "stretch");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.Equal("invalid_request", problem.GetProperty("code").GetString());
        Assert.Contains("referenceFit 'stretch' is not one of 'cover', 'contain'", problem.GetProperty("detail").GetString());
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        Assert.False(await db.Tasks.AnyAsync(t => t.UserId == user.Id));
        Assert.Equal(100, (await (await client.GetAsync("/api/v1/credits")).ReadJsonAsync()).GetProperty("balance").GetInt32());
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string body, string? fit)
    {
        var image = TestImages.Png(128, 64);
        if (body == "json")
            return await client.PostAsJsonAsync("/api/v1/tasks", new
            {
                model = BananaLabFactory.TestModel, prompt = "wider", referenceImage = Convert.ToBase64String(image), referenceFit = fit,
            });
        var file = new ByteArrayContent(image);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        var form = new MultipartFormDataContent
        {
            { new StringContent(BananaLabFactory.TestModel), "model" }, { new StringContent("wider"), "prompt" }, { file, "referenceImage", "wide.png" },
        };
        if (fit is not null) form.Add(new StringContent(fit), "referenceFit");
        return await client.PostAsync("/api/v1/tasks", form);
    }
}
