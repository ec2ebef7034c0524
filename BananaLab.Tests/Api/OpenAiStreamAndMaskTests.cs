using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Storage;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using OpenAI;
using OpenAI.Images;
using SkiaSharp;

namespace BananaLab.Tests.Api;

/// <summary>
/// The OpenAI dialect's streams and masks, driven by the official OpenAI .NET SDK (2.15.0): <c>stream: true</c> with
/// <c>partial_images</c> answers OpenAI's server-sent events, and an edit's mask reaches the task.
/// </summary>
public sealed class OpenAiStreamAndMaskTests(BananaLabFactory factory) : IClassFixture<BananaLabFactory>
{
    [Fact]
    public async Task A_stream_with_two_partial_images_sends_them_then_the_completed_image()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        var events = await StreamAsync(key, new { model = BananaLabFactory.TestModel, prompt = "[steps:6] [slow:150] a streamed pear", stream = true, partial_images = 2 });

        Assert.Equal(["image_generation.partial_image", "image_generation.partial_image", "image_generation.completed"], events.Select(e => e.Type));
        Assert.Equal([0, 1], events.Take(2).Select(e => e.Data.GetProperty("partial_image_index").GetInt32()));
        var completed = events[^1].Data;
        Assert.Equal("image_generation.completed", completed.GetProperty("type").GetString());
        using var image = SKBitmap.Decode(Convert.FromBase64String(completed.GetProperty("b64_json").GetString()!));
        Assert.NotNull(image);
        Assert.Equal(95, await factory.Services.GetRequiredService<CreditLedger>().GetBalanceAsync(user.Id));
    }

    [Fact]
    public async Task A_stream_without_partial_images_sends_only_the_completed_image_per_image()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);
        var events = await StreamAsync(key, new { model = BananaLabFactory.TestModel, prompt = "[steps:3] two plain pears", n = 2, stream = true });

        Assert.Equal(["image_generation.completed", "image_generation.completed"], events.Select(e => e.Type));
    }

    [Fact]
    public async Task A_stream_whose_run_fails_ends_with_an_error_event_in_openais_envelope_and_refunds()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        var events = await StreamAsync(key, new { model = BananaLabFactory.TestModel, prompt = "[fail] [steps:2] [slow:50] a doomed pear", stream = true, partial_images = 1 });

        var error = events[^1];
        Assert.Equal("error", error.Type);
        Assert.True(error.Data.GetProperty("error").TryGetProperty("message", out _));
        Assert.Equal(100, await factory.Services.GetRequiredService<CreditLedger>().GetBalanceAsync(user.Id));
    }

    [Fact]
    public async Task An_edit_with_a_mask_from_the_sdk_keeps_the_mask_with_the_task()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        var images = Client(key);
        using var image = new MemoryStream(Png(64, 64, transparentLeft: false));
        var maskBytes = Png(64, 64, transparentLeft: true);
        using var mask = new MemoryStream(maskBytes);

        var edited = await images.GenerateImageEditAsync(image, "photo.png", "repaint the left half", mask, "mask.png",
            new ImageEditOptions { ResponseFormat = GeneratedImageFormat.Bytes });

        Assert.NotNull(edited.Value.ImageBytes);
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        var task = await db.Tasks.SingleAsync(t => t.UserId == user.Id);
        var store = factory.Services.GetRequiredService<ImageStore>();
        Assert.Equal(maskBytes, await File.ReadAllBytesAsync(store.FullPath(ImageStore.MaskPathOf(task.ReferenceImagePath!))));
    }

    private ImageClient Client(string key) => new(BananaLabFactory.TestModel, new ApiKeyCredential(key), new OpenAIClientOptions
    {
        Endpoint = new Uri(factory.Server.BaseAddress, "/v1"),
        Transport = new HttpClientPipelineTransport(factory.Server.CreateClient()),
    });

    /// <summary>
    /// The stream the SDK's protocol method reads for <paramref name="body"/>: each event's name and data. The method is marked
    /// experimental (OPENAI001) in 2.15.0; it is the SDK's only way to stream images.
    /// </summary>
#pragma warning disable OPENAI001
    private async Task<List<(string Type, JsonElement Data)>> StreamAsync(string key, object body)
    {
        var result = await Client(key).GenerateImagesStreamingAsync(BinaryContent.Create(BinaryData.FromObjectAsJson(body)), new RequestOptions());
        var events = new List<(string, JsonElement)>();
        await foreach (var item in result) events.Add((item.EventType, JsonDocument.Parse(item.Data.ToString()).RootElement.Clone()));
        return events;
    }
#pragma warning restore OPENAI001

    private static byte[] Png(int width, int height, bool transparentLeft)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                bitmap.SetPixel(x, y, new SKColor(200, (byte)(100 + y), (byte)(40 + x), transparentLeft && x < width / 2 ? (byte)0 : (byte)255));
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
