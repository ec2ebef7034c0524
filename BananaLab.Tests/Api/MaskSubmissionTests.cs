using System.Net;
using System.Net.Http.Json;
using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Storage;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using SkiaSharp;

namespace BananaLab.Tests.Api;

/// <summary>
/// A mask travels with its reference (native API: <c>maskImage</c>, base64 in JSON or a multipart file): a PNG with
/// transparency, the reference's size. Anything else is <c>invalid_mask</c>, uncharged; a good one is kept beside the
/// reference for the worker.
/// </summary>
public sealed class MaskSubmissionTests(NoWorkerFactory factory) : IClassFixture<NoWorkerFactory>
{
    [Theory]
    [InlineData("no-reference", "A mask needs the image it applies to.")]
    [InlineData("jpeg", "The mask must be a PNG with transparency")]
    [InlineData("opaque-png", "The mask must be a PNG with transparency")]
    [InlineData("wrong-size", "The mask is 32×32; it must be the size of the image, 64×48.")]
    public async Task A_mask_that_cannot_apply_is_refused_uncharged(string kind, string message)
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);
        var mask = kind switch
        {
            "jpeg" => Encode(64, 48, SKAlphaType.Opaque, SKEncodedImageFormat.Jpeg),
            "opaque-png" => Encode(64, 48, SKAlphaType.Opaque, SKEncodedImageFormat.Png),
            "wrong-size" => Encode(32, 32, SKAlphaType.Unpremul, SKEncodedImageFormat.Png),
            _ => Encode(64, 48, SKAlphaType.Unpremul, SKEncodedImageFormat.Png),
        };

        var response = await client.PostAsJsonAsync("/api/v1/tasks", new
        {
            model = BananaLabFactory.TestModel, prompt = "repaint the left half",
            referenceImage = kind == "no-reference" ? null : Convert.ToBase64String(Encode(64, 48, SKAlphaType.Opaque, SKEncodedImageFormat.Png)),
            maskImage = Convert.ToBase64String(mask),
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.Equal("invalid_mask", problem.GetProperty("code").GetString());
        Assert.Contains(message, problem.GetProperty("detail").GetString());
        Assert.Equal(100, await factory.Services.GetRequiredService<CreditLedger>().GetBalanceAsync(user.Id));
        Assert.Empty((await factory.Services.GetRequiredService<TaskService>().ListAsync(user.Id, new TaskQuery(), default)).Items);
    }

    [Fact]
    public async Task A_good_mask_is_kept_beside_the_reference_as_sent()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);
        var mask = Encode(64, 48, SKAlphaType.Unpremul, SKEncodedImageFormat.Png);
        using var form = new MultipartFormDataContent
        {
            { new StringContent(BananaLabFactory.TestModel), "model" },
            { new StringContent("repaint the left half"), "prompt" },
            { new ByteArrayContent(Encode(64, 48, SKAlphaType.Opaque, SKEncodedImageFormat.Png)), "referenceImage", "photo.png" },
            { new ByteArrayContent(mask), "maskImage", "mask.png" },
        };

        var response = await client.PostAsync("/api/v1/tasks", form);

        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var task = Assert.Single((await factory.Services.GetRequiredService<TaskService>().ListAsync(user.Id, new TaskQuery(), default)).Items);
        var store = factory.Services.GetRequiredService<ImageStore>();
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        var reference = (await db.Tasks.SingleAsync(t => t.Id == task.Id)).ReferenceImagePath!;
        Assert.Equal(mask, await File.ReadAllBytesAsync(store.FullPath(ImageStore.MaskPathOf(reference))));
    }

    [Fact]
    public async Task A_model_without_a_reference_refuses_the_mask_with_its_reference()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);

        var response = await client.PostAsJsonAsync("/api/v1/tasks", new
        {
            model = BananaLabFactory.TextOnlyModel, prompt = "repaint",
            referenceImage = Convert.ToBase64String(Encode(64, 48, SKAlphaType.Opaque, SKEncodedImageFormat.Png)),
            maskImage = Convert.ToBase64String(Encode(64, 48, SKAlphaType.Unpremul, SKEncodedImageFormat.Png)),
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("reference_not_accepted", (await response.ReadJsonAsync()).GetProperty("code").GetString());
        Assert.Equal(100, await factory.Services.GetRequiredService<CreditLedger>().GetBalanceAsync(user.Id));
    }

    /// <summary>A picture whose left half is transparent when <paramref name="alpha"/> allows it.</summary>
    private static byte[] Encode(int width, int height, SKAlphaType alpha, SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, alpha));
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                bitmap.SetPixel(x, y, new SKColor(200, 100, 50, alpha == SKAlphaType.Opaque || x >= width / 2 ? (byte)255 : (byte)0));
        using var data = bitmap.Encode(format, 90);
        return data.ToArray();
    }
}
