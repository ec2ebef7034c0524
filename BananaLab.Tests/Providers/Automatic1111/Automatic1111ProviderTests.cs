using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using BananaLab.Core.Catalog;
using BananaLab.Core.Credits;
using BananaLab.Core.Generation;
using BananaLab.Core.Images;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using BananaLab.Worker.Providers.Automatic1111;
using SkiaSharp;

namespace BananaLab.Tests.Providers.Automatic1111;

/// <summary>
/// The <c>automatic1111</c> provider end to end: a BananaLab host whose catalog points at <see cref="FakeWebUiApi"/> on
/// loopback, with the test image classifier on (it refuses red outputs). Failure kinds have catalog entries of their own.
/// </summary>
public sealed class Automatic1111ProviderTests(Automatic1111ProviderTests.WebUiFactory factory) : IClassFixture<Automatic1111ProviderTests.WebUiFactory>
{
    public sealed class WebUiFactory : RemoteProviderHostFactory
    {
        public const string ModelA = "sd-a";
        public const string ModelB = "sd-b";
        public const string Checkpoint = "sdxl_base_1.0.safetensors";
        public static readonly string[] FailureModels = ["429", "500", "empty", "broken", "401", "hang"];

        public FakeWebUiApi Api { get; } = new();

        protected override IDictionary<string, string?> Models
        {
            get
            {
                var settings = Moderation.ImageModerationTests.ClassifierFactory.RednessClassifier;
                foreach (var id in FailureModels.Select(f => $"sd-{f}").Append(ModelA).Append(ModelB))
                {
                    AddEntry(settings, id, Automatic1111ImageGenerator.ProviderName, Api.Server.BaseUrl,
                        $"{FakeWebUiApi.User}:{(id == "sd-401" ? "wrong" : FakeWebUiApi.Password)}", Checkpoint, timeoutSeconds: id == "sd-hang" ? 2 : 60);
                    (settings[$"Models:{id}:NativeWidth"], settings[$"Models:{id}:NativeHeight"], settings[$"Models:{id}:DefaultSteps"]) = ("512", "512", "3");
                }
                return settings;
            }
        }

        protected override IAsyncDisposable Service => Api;
    }

    private static readonly string Basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{FakeWebUiApi.User}:{FakeWebUiApi.Password}"));

    [Fact]
    public async Task A_task_calls_txt2img_with_its_parameters_at_the_models_native_size_and_skips_the_grid()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 40);
        using var client = factory.CreateClient(key);
        var prompt = $"a lighthouse at night {Guid.NewGuid():N}";

        var done = await client.WaitForTerminalAsync((await client.SubmitAsync(new
        {
            model = WebUiFactory.ModelA, prompt, negativePrompt = "blurry", seed = 42, steps = 2, guidance = 6.5, count = 2,
            size = "1K", aspectRatio = "16:9",
        })).Id, timeoutSeconds: 60);

        Assert.Equal("succeeded", done.Status);
        var call = Assert.Single(factory.Api.Server.CallsFor(prompt));
        Assert.Equal("/sdapi/v1/txt2img", call.Path);
        Assert.Equal(Basic, call.Headers["Authorization"]);
        var body = call.Body;
        Assert.Equal("blurry", body.GetProperty("negative_prompt").GetString());
        Assert.Equal(42, body.GetProperty("seed").GetInt64());
        Assert.Equal(2, body.GetProperty("steps").GetInt32());
        Assert.Equal(6.5, body.GetProperty("cfg_scale").GetDouble());
        Assert.Equal((512, 288), (body.GetProperty("width").GetInt32(), body.GetProperty("height").GetInt32()));
        Assert.Equal(2, body.GetProperty("batch_size").GetInt32());
        Assert.Equal(WebUiFactory.Checkpoint, body.GetProperty("override_settings").GetProperty("sd_model_checkpoint").GetString());
        Assert.False(body.TryGetProperty("init_images", out _));
        // The server put a red grid before the two images: the task kept the images.
        Assert.Equal(2, done.Images.Count);
        foreach (var image in done.Images)
        {
            using var bitmap = SKBitmap.Decode(await client.GetByteArrayAsync(image.Url));
            Assert.Equal((1024, 576), (bitmap.Width, bitmap.Height));
            Assert.True(bitmap.GetPixel(512, 288).Green > 150, $"the image is {bitmap.GetPixel(512, 288)}");
        }
        Assert.Equal([CreditEntryKind.Reserve, CreditEntryKind.Capture], (await factory.RecordOfAsync(done.Id)).Credits);
    }

    [Fact]
    public async Task A_reference_image_goes_to_img2img_with_the_reference_strength_as_denoising_strength()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 40);
        using var client = factory.CreateClient(key);
        var prompt = $"the same, in winter {Guid.NewGuid():N}";
        var reference = ScriptedGenerator.SolidPng(new SKColor(90, 90, 200), 32);

        var done = await client.WaitForTerminalAsync((await client.SubmitAsync(new
        {
            model = WebUiFactory.ModelA, prompt, referenceImage = Convert.ToBase64String(reference), referenceStrength = 0.6,
        })).Id, timeoutSeconds: 60);

        Assert.Equal("succeeded", done.Status);
        var call = Assert.Single(factory.Api.Server.CallsFor(prompt));
        Assert.Equal("/sdapi/v1/img2img", call.Path);
        Assert.Equal(reference, Convert.FromBase64String(call.Body.GetProperty("init_images")[0].GetString()!));
        Assert.Equal(0.6, call.Body.GetProperty("denoising_strength").GetDouble(), 3);
    }

    [Fact]
    public async Task Each_sampling_step_reaches_the_tasks_live_progress_with_the_servers_preview_as_png()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 40);
        using var client = factory.CreateClient(key);
        var events = new ConcurrentQueue<TaskEvent>();
        using var subscription = factory.Services.GetRequiredService<TaskNotifier>().SubscribeAll(events.Enqueue);

        var done = await client.WaitForTerminalAsync((await client.SubmitAsync(new
        {
            model = WebUiFactory.ModelA, prompt = $"a harbour {Guid.NewGuid():N}", steps = 6,
        })).Id, timeoutSeconds: 60);

        Assert.Equal("succeeded", done.Status);
        var steps = events.Where(e => e.TaskId == done.Id && e.Kind == TaskEventKind.Progress && e.Phase == GenerationPhase.Denoising && e.Step > 0).ToList();
        Assert.True(steps.Select(e => e.Step).Distinct().Count() >= 3, $"steps seen: {string.Join(", ", steps.Select(e => e.Step))}");
        Assert.All(steps, e => Assert.Equal(6, e.TotalSteps));
        Assert.Equal(steps.Select(e => e.Step).Order(), steps.Select(e => e.Step));
        var preview = steps.Last().PreviewPng;
        Assert.NotNull(preview);
        Assert.True(ImageHeader.TryRead(preview, out var header, out _));
        Assert.Equal("image/png", header!.ContentType); // the server sent JPEG
        using var bitmap = SKBitmap.Decode(preview);
        Assert.Equal((128, 128), (bitmap.Width, bitmap.Height));
    }

    [Fact]
    public async Task Two_models_on_one_server_never_run_at_once_though_the_worker_runs_both_tasks()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 40);
        using var client = factory.CreateClient(key);
        var before = factory.Api.MaxRunning;
        Assert.True(before <= 1);

        var first = await client.SubmitAsync(new { model = WebUiFactory.ModelA, prompt = $"one {Guid.NewGuid():N}", steps = 4 });
        var second = await client.SubmitAsync(new { model = WebUiFactory.ModelB, prompt = $"two {Guid.NewGuid():N}", steps = 4 });
        var bothClaimed = false;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            var (a, b) = (await client.GetTaskAsync(first.Id), await client.GetTaskAsync(second.Id));
            bothClaimed |= a.Status == "running" && b.Status == "running" && factory.Api.Busy;
            if (a.Status == "succeeded" && b.Status == "succeeded") break;
            await Task.Delay(50);
        }

        Assert.True(bothClaimed, "the worker never ran both tasks at once: the test shows nothing about the server's lock");
        Assert.Equal(1, factory.Api.MaxRunning);
        Assert.Equal("succeeded", (await client.GetTaskAsync(first.Id)).Status);
        Assert.Equal("succeeded", (await client.GetTaskAsync(second.Id)).Status);
    }

    [Fact]
    public async Task Canceling_a_running_task_interrupts_the_server_and_releases_the_credits()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 40);
        using var client = factory.CreateClient(key);
        var interrupts = Volatile.Read(ref factory.Api.Interrupts);
        var task = await client.SubmitAsync(new { model = WebUiFactory.ModelA, prompt = $"forever [hang] {Guid.NewGuid():N}" });
        await RemoteProviderHostFactory.WaitUntilAsync(() => factory.Api.Server.CallsFor(task.Prompt).Count == 1 && factory.Api.Busy);

        (await client.PostAsync($"/api/v1/tasks/{task.Id}/cancel", null)).EnsureSuccessStatusCode();
        var done = await client.WaitForTerminalAsync(task.Id);

        Assert.Equal("canceled", done.Status);
        await RemoteProviderHostFactory.WaitUntilAsync(() => Volatile.Read(ref factory.Api.Interrupts) > interrupts && !factory.Api.Busy);
        Assert.Equal([CreditEntryKind.Reserve, CreditEntryKind.Release], (await factory.RecordOfAsync(done.Id)).Credits);
    }

    [Theory]
    [InlineData("500", "provider_error", 3)]
    [InlineData("empty", "no_image", 3)]
    [InlineData("broken", "no_image", 3)]
    [InlineData("401", "provider_auth_failed", 1)]
    public async Task A_failure_ends_the_task_with_its_code_after_the_attempts_it_deserves_and_releases_the_credits_once(
        string failure, string code, int calls)
    {
        var (_, key) = await factory.CreateUserAsync(credits: 40);
        using var client = factory.CreateClient(key);
        var prompt = $"a lighthouse [{failure}] {Guid.NewGuid():N}";
        await factory.SwitchOnAsync($"sd-{failure}");

        var done = await client.WaitForTerminalAsync((await client.SubmitAsync(new { model = $"sd-{failure}", prompt })).Id, timeoutSeconds: 60);

        await factory.AssertFailedAndReleasedAsync(done, code, attempts: calls);
        Assert.Equal(calls, factory.Api.Server.CallsFor(prompt).Count);
        Assert.DoesNotContain("CUDA", done.Error?.Message); // never the server's own text
    }

    [Fact]
    public async Task A_rate_limit_is_retried_after_the_time_the_server_asked_for()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 40);
        using var client = factory.CreateClient(key);
        var prompt = $"a lighthouse [429] {Guid.NewGuid():N}";

        var done = await client.WaitForTerminalAsync((await client.SubmitAsync(new { model = "sd-429", prompt })).Id, timeoutSeconds: 60);

        await factory.AssertSucceededAfterRetryAfterAsync(done, factory.Api.Server.CallsFor(prompt));
    }

    [Fact]
    public async Task A_server_past_the_timeout_fails_the_task_and_is_told_to_stop()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 40);
        using var client = factory.CreateClient(key);
        var interrupts = Volatile.Read(ref factory.Api.Interrupts);
        var clock = Stopwatch.StartNew();

        var done = await client.WaitForTerminalAsync((await client.SubmitAsync(new { model = "sd-hang", prompt = $"forever [hang] {Guid.NewGuid():N}" })).Id);

        Assert.Equal("failed", done.Status);
        Assert.Equal("provider_timeout", done.Error?.Code);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(12));
        var record = await factory.RecordOfAsync(done.Id);
        Assert.Equal([(TaskAttemptOutcome.Failed, "provider_timeout")], record.Attempts);
        Assert.Equal([CreditEntryKind.Reserve, CreditEntryKind.Release], record.Credits);
        await RemoteProviderHostFactory.WaitUntilAsync(() => Volatile.Read(ref factory.Api.Interrupts) > interrupts && !factory.Api.Busy);
    }

    /// <summary>The WebUI's API has no content policy of its own to refuse with: ours applies, to the image it made.</summary>
    [Fact]
    public async Task An_image_our_classifier_refuses_fails_the_task_and_releases_the_credits()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 40);
        using var client = factory.CreateClient(key);

        var done = await client.WaitForTerminalAsync((await client.SubmitAsync(new
        {
            model = WebUiFactory.ModelA, prompt = $"a red square [red] {Guid.NewGuid():N}",
        })).Id, timeoutSeconds: 60);

        Assert.Equal("failed", done.Status);
        Assert.Equal("output_blocked", done.Error?.Code);
        Assert.Equal([CreditEntryKind.Reserve, CreditEntryKind.Release], (await factory.RecordOfAsync(done.Id)).Credits);
    }

    [Fact]
    public async Task The_credentials_never_appear_in_the_logs()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 40);
        using var client = factory.CreateClient(key);
        await factory.SwitchOnAsync("sd-401");
        foreach (var model in new[] { WebUiFactory.ModelA, "sd-401", "sd-500" })
            await client.WaitForTerminalAsync((await client.SubmitAsync(new { model, prompt = $"a lighthouse [{model[3..]}] {Guid.NewGuid():N}" })).Id,
                timeoutSeconds: 60);

        Assert.Contains(factory.Logs.Lines, line => line.StartsWith("Trace System.Net.Http.HttpClient.automatic1111", StringComparison.Ordinal));
        factory.AssertNotLogged(FakeWebUiApi.Password);
        factory.AssertNotLogged(Basic["Basic ".Length..]);
    }

    [Fact]
    public void An_entry_without_Endpoint_or_with_a_malformed_ApiKey_stops_start_up_naming_the_key_but_not_its_value()
    {
        var options = new ModelCatalogOptions();
        options.Models["local"] = new ModelDefinition { Provider = "automatic1111" };
        options.Models["remote"] = new ModelDefinition { Provider = "automatic1111", Endpoint = "http://127.0.0.1:7860", ApiKey = "justapassword" };
        options.Models["open"] = new ModelDefinition { Provider = "automatic1111", Endpoint = "http://127.0.0.1:7860" };

        var result = new Automatic1111CatalogValidator().Validate(null, options);

        Assert.Equal(2, result.Failures!.Count());
        Assert.Contains(result.Failures!, f => f.StartsWith("Models:local:Endpoint is required", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Models:remote:ApiKey must be user:pass", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Failures!, f => f.Contains("justapassword"));
    }

    [Theory]
    [InlineData(0, 0, 1024, 1024, 1024, 1024)]
    [InlineData(512, 512, 1024, 576, 512, 288)]
    [InlineData(512, 512, 576, 1024, 288, 512)]
    [InlineData(1024, 1024, 1024, 768, 1024, 768)]
    public void The_size_asked_for_is_the_models_native_long_side_in_the_tasks_aspect_ratio(
        int nativeWidth, int nativeHeight, int width, int height, int expectedWidth, int expectedHeight)
    {
        var model = new ModelDefinition { NativeWidth = nativeWidth, NativeHeight = nativeHeight };
        Assert.Equal((expectedWidth, expectedHeight), Automatic1111ImageGenerator.NativeSize(model, width, height));
    }
}
