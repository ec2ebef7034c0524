using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using BananaLab.Core.Data;
using BananaLab.Core.Storage;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Pages.Studio;
using Microsoft.EntityFrameworkCore;
using SkiaSharp;

namespace BananaLab.Tests.Images;

/// <summary>
/// Every way an image comes in (the native API as JSON and multipart, OpenAI edits, fastDeploy FILE inputs, Banana,
/// the session interface, BentoML's /generate, the studio's picker) takes it as a viewer shows it: upright, whole, and
/// with whatever follows a JPEG's end ignored; a file that does not decode is refused before anything is charged.
/// </summary>
public sealed class ReferenceIntakeTests(BananaLabFactory factory) : IClassFixture<BananaLabFactory>
{
    private const string Model = BananaLabFactory.TestModel;

    public static TheoryData<string> EntryPoints => ["native json", "native multipart", "openai edits", "fastdeploy file", "banana", "session", "bento"];

    [Theory]
    [MemberData(nameof(EntryPoints))]
    public async Task Exif_rotated_jpeg_is_stored_upright(string entry)
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);

        using var response = await SendAsync(entry, key, TestImages.JpegWithOrientation6(32, 64));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode && !text.Contains("\"error\":\""), text);
        var path = Assert.Single(await ReferencePathsAsync(user.Id));
        // Decoded as an EXIF-blind consumer (a remote provider, an old worker) reads it: the pixels themselves are upright.
        using var stored = SKBitmap.Decode(factory.Services.GetRequiredService<ImageStore>().FullPath(path));
        Assert.Equal((32, 64), (stored.Width, stored.Height));
        TestImages.AssertUpright(stored);
    }

    [Theory]
    [InlineData("newline")]
    [InlineData("zero padding")]
    [InlineData("samsung")]
    [InlineData("motion photo")]
    public async Task Jpeg_with_bytes_after_its_end_marker_is_accepted(string trailer)
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);

        using var response = await SendAsync("native json", key, [.. TestImages.Jpeg(32, 64), .. TestImages.Trailer(trailer)]);

        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        Assert.Single(await ReferencePathsAsync(user.Id));
    }

    [Theory]
    [MemberData(nameof(EntryPoints))]
    public async Task Png_with_garbage_idat_is_refused_before_anything_is_charged(string entry)
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);

        using var response = await SendAsync(entry, key, TestImages.PngWithGarbageIdat(64, 64));

        var text = await response.Content.ReadAsStringAsync();
        // Banana answers every error with 200 and its own envelope; the others with 400 in theirs.
        Assert.Equal(entry == "banana" ? HttpStatusCode.OK : HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("PNG image data is damaged", text);
        if (entry is "native json" or "native multipart" or "openai edits" or "bento") Assert.Contains("reference_image_unreadable", text);
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        Assert.Equal(0, await db.Tasks.CountAsync(t => t.UserId == user.Id));
        Assert.Equal(0, await db.CreditEntries.CountAsync(e => e.UserId == user.Id && e.Kind != BananaLab.Core.Credits.CreditEntryKind.Grant));
        Assert.Equal(100, (await factory.Services.GetRequiredService<UserService>().FindAsync(user.Id))!.CreditBalance);
    }

    [Fact]
    public async Task A_mask_with_garbage_idat_is_refused_before_anything_is_charged()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);

        using var response = await factory.CreateClient(key).PostAsJsonAsync("/api/v1/tasks", new
        {
            model = Model, prompt = "repaint the left half", referenceImage = Convert.ToBase64String(TestImages.Png(64, 48)),
            maskImage = Convert.ToBase64String(TestImages.PngWithGarbageIdat(64, 48, withAlpha: true)),
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.Equal("invalid_mask", problem.GetProperty("code").GetString());
        Assert.Contains("The mask could not be read: the PNG image data is damaged", problem.GetProperty("detail").GetString());
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        Assert.Equal(0, await db.Tasks.CountAsync(t => t.UserId == user.Id));
        Assert.Equal(100, (await factory.Services.GetRequiredService<UserService>().FindAsync(user.Id))!.CreditBalance);
    }

    [Fact]
    public void Studio_picker_shows_the_upright_size_and_refuses_damaged_pixels()
    {
        var reader = factory.Services.GetRequiredService<ReferenceImageReader>();

        var (image, error) = reader.Read(TestImages.JpegWithOrientation6(32, 64), "phone.jpg");
        Assert.True(image is not null, error);
        Assert.Equal((32, 64), (image.Width, image.Height));

        (image, error) = reader.Read(TestImages.PngWithGarbageIdat(64, 64), "broken.png");
        Assert.Null(image);
        Assert.Contains("PNG image data is damaged", error);
    }

    private async Task<List<string>> ReferencePathsAsync(Guid userId)
    {
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        return await db.Tasks.Where(t => t.UserId == userId && t.ReferenceImagePath != null).Select(t => t.ReferenceImagePath!).ToListAsync();
    }

    private async Task<HttpResponseMessage> SendAsync(string entry, string key, byte[] image)
    {
        var client = factory.CreateClient(key);
        var base64 = Convert.ToBase64String(image);
        switch (entry)
        {
            case "native json":
                return await client.PostAsJsonAsync("/api/v1/tasks", new { model = Model, prompt = "like this", referenceImage = base64 });
            case "native multipart":
                return await client.PostAsync("/api/v1/tasks", new MultipartFormDataContent
                {
                    { new StringContent(Model), "model" }, { new StringContent("like this"), "prompt" }, { File(image), "referenceImage", "photo.jpg" },
                });
            case "openai edits":
                return await client.PostAsync("/v1/images/edits", new MultipartFormDataContent
                {
                    { File(image), "image", "photo.jpg" }, { new StringContent("like this"), "prompt" }, { new StringContent("b64_json"), "response_format" },
                });
            case "fastdeploy file":
                return await client.PostAsJsonAsync("/sync", new
                {
                    data = new Dictionary<string, string> { ["photo.jpg"] = base64 }, @params = new { prompt = "like this" },
                });
            case "banana":
                return await factory.CreateClient().PostAsJsonAsync("/start/v4", new
                {
                    apiKey = key, modelKey = Model, modelInputs = new { prompt = "like this", reference_image = base64 },
                });
            case "session":
                var login = await (await client.PostAsJsonAsync("/login", new { endpoint_name = Model, api_key = key })).ReadJsonAsync();
                return await client.PostAsJsonAsync("/endpoint", new
                {
                    client_session_auth_key = login.GetProperty("client_session_auth_key").GetString(), prompt = "like this", reference_image = base64,
                });
            case "bento":
                var request = new HttpRequestMessage(HttpMethod.Post, "/generate") { Content = JsonContent.Create(new { prompt = "like this", reference_image = base64 }) };
                request.Headers.Accept.ParseAdd("application/json");
                return await client.SendAsync(request);
            default:
                throw new ArgumentOutOfRangeException(nameof(entry), entry, null);
        }
    }

    private static ByteArrayContent File(byte[] image)
    {
        var content = new ByteArrayContent(image);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        return content;
    }
}
