using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using BananaLab.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using SkiaSharp;

namespace BananaLab.Tests.Providers.Automatic1111;

/// <summary>
/// A Stable Diffusion WebUI's API on loopback, started with <c>--api-auth</c> (HTTP Basic on every route), as its
/// modules/api/api.py serves it: <c>/sdapi/v1/txt2img</c> and <c>/sdapi/v1/img2img</c> answer base64 images (a red grid
/// first when the batch has several), <c>/sdapi/v1/progress</c> the one running job's step and a JPEG preview,
/// <c>/sdapi/v1/interrupt</c> stops it (the call then answers with what it has). A job takes <see cref="StepMs"/> per step.
/// The prompt picks a failure: "[429]" (the first call), "[500]", "[empty]", "[broken]", "[red]" (a red image), "[hang]"
/// (runs until interrupted). It counts the generation calls running at once.
/// </summary>
public sealed class FakeWebUiApi : IAsyncDisposable
{
    public const string User = "webui";
    public const string Password = "s3cret-pass";
    public const int StepMs = 300;

    public static readonly SKColor Green = new(40, 190, 70);
    public static readonly SKColor Red = new(230, 20, 20);

    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<string, int> _seen = new();
    private int _running, _step, _steps;
    private string? _preview;
    private TaskCompletionSource _interrupted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public LoopbackProviderServer Server { get; }
    public int MaxRunning { get; private set; }
    /// <summary>How many times <c>/sdapi/v1/interrupt</c> was called.</summary>
    public int Interrupts;

    public FakeWebUiApi() => Server = LoopbackProviderServer.Start(app =>
    {
        app.MapPost("/sdapi/v1/txt2img", context => GenerateAsync(context));
        app.MapPost("/sdapi/v1/img2img", context => GenerateAsync(context));
        app.MapGet("/sdapi/v1/progress", Progress);
        app.MapPost("/sdapi/v1/interrupt", Interrupt);
    });

    /// <summary>True while a generation call is running on the server.</summary>
    public bool Busy => Volatile.Read(ref _running) > 0;

    private async Task GenerateAsync(HttpContext context)
    {
        var call = await Server.RecordAsync(context, body => body.TryGetProperty("prompt", out var p) ? p.GetString() : null);
        if (!Authorized(context))
        {
            await Unauthorized(context);
            return;
        }
        var prompt = call.Prompt ?? "";
        var body = call.Body;
        var (width, height, batch) = (body.GetProperty("width").GetInt32(), body.GetProperty("height").GetInt32(), body.GetProperty("batch_size").GetInt32());
        if (width % 8 != 0 || height % 8 != 0)
        {
            context.Response.StatusCode = 422;
            return;
        }
        if (prompt.Contains("[429]") && _seen.AddOrUpdate(prompt, 1, (_, n) => n + 1) == 1)
        {
            context.Response.StatusCode = 429;
            context.Response.Headers.RetryAfter = "1";
            return;
        }
        if (prompt.Contains("[500]"))
        {
            context.Response.StatusCode = 500;
            await context.Response.WriteAsJsonAsync(new { error = "OutOfMemoryError", detail = "", body = "", errors = "CUDA out of memory" });
            return;
        }

        lock (_lock)
        {
            _running++;
            MaxRunning = Math.Max(MaxRunning, _running);
            _interrupted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        try
        {
            var steps = prompt.Contains("[hang]") ? 1000 : body.GetProperty("steps").GetInt32();
            for (var step = 1; step <= steps; step++)
            {
                lock (_lock) (_step, _steps, _preview) = (step, steps, Jpeg(width / 4, height / 4));
                var next = Task.Delay(StepMs, context.RequestAborted);
                if (await Task.WhenAny(next, _interrupted.Task) == _interrupted.Task) break;
                await next;
            }
        }
        catch (OperationCanceledException)
        {
            return; // the caller went away
        }
        finally
        {
            lock (_lock) (_running, _step, _steps, _preview) = (_running - 1, 0, 0, null);
        }

        string[] images = prompt.Contains("[empty]") ? []
            : prompt.Contains("[broken]") ? [Convert.ToBase64String("not an image"u8.ToArray())]
            : Enumerable.Repeat(Convert.ToBase64String(ScriptedGenerator.SolidPng(prompt.Contains("[red]") ? Red : Green, width)), batch).ToArray();
        if (batch > 1) images = [Convert.ToBase64String(ScriptedGenerator.SolidPng(Red, 64)), .. images];
        await context.Response.WriteAsJsonAsync(new { images, parameters = new { }, info = "{}" });
    }

    private IResult Progress(HttpContext context)
    {
        if (!Authorized(context)) return Results.StatusCode(401);
        lock (_lock)
        {
            return Results.Json(new
            {
                progress = _steps == 0 ? 0 : (double)_step / _steps,
                eta_relative = 0.0,
                state = new { skipped = false, interrupted = false, job = "", job_count = _steps == 0 ? 0 : 1, job_timestamp = "0", job_no = 0,
                    sampling_step = _step, sampling_steps = _steps },
                current_image = context.Request.Query["skip_current_image"] == "true" ? null : _preview,
                textinfo = (string?)null,
            });
        }
    }

    private IResult Interrupt(HttpContext context)
    {
        if (!Authorized(context)) return Results.StatusCode(401);
        Interlocked.Increment(ref Interrupts);
        lock (_lock) _interrupted.TrySetResult();
        return Results.Json(new { });
    }

    private static bool Authorized(HttpContext context) =>
        context.Request.Headers.Authorization.ToString() == "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"));

    private static async Task Unauthorized(HttpContext context)
    {
        context.Response.StatusCode = 401;
        context.Response.Headers.WWWAuthenticate = "Basic";
        await context.Response.WriteAsJsonAsync(new { detail = "Incorrect username or password" });
    }

    /// <summary>A preview as the server sends it with samples_format jpg: base64 JPEG.</summary>
    private static string Jpeg(int width, int height)
    {
        using var bitmap = new SKBitmap(Math.Max(8, width), Math.Max(8, height));
        bitmap.Erase(Green);
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 80);
        return Convert.ToBase64String(data.ToArray());
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
