using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace BananaLab.Tests.Infrastructure;

/// <summary>A real HTTP server on 127.0.0.1 that records webhook calls and answers with scripted status codes.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<int> _script = new();

    public sealed record Call(string Path, IReadOnlyDictionary<string, string> Headers, string Body);

    public BlockingCollection<Call> Calls { get; } = new();
    public string BaseUrl { get; }

    private WebhookReceiver(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public static async Task<WebhookReceiver> StartAsync()
    {
        var app = LoopbackApp.Create();
        WebhookReceiver? receiver = null;
        app.Map("/{**path}", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            var status = receiver!._script.TryDequeue(out var scripted) ? scripted : 200;
            if (status is >= 300 and < 400) context.Response.Headers.Location = receiver.RedirectTo;
            receiver.Calls.Add(new Call(context.Request.Path, context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString()), body));
            context.Response.StatusCode = status;
        });
        receiver = new WebhookReceiver(app, await LoopbackApp.StartAsync(app));
        return receiver;
    }

    /// <summary>The next calls are answered with these status codes, then 200.</summary>
    public void Answer(params int[] statuses)
    {
        foreach (var status in statuses) _script.Enqueue(status);
    }

    /// <summary>Where a scripted 3xx answer redirects to.</summary>
    public string? RedirectTo { get; set; }

    public Call Next(int timeoutSeconds = 20) =>
        Calls.TryTake(out var call, TimeSpan.FromSeconds(timeoutSeconds)) ? call : throw new TimeoutException("No webhook call arrived.");

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
