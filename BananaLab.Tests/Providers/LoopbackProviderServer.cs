using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace BananaLab.Tests.Providers;

/// <summary>
/// A real Kestrel on 127.0.0.1 standing in for a remote image service: the test maps the service's documented routes on
/// it, and it records every request it receives (path, query, headers, JSON body, time) for the test to check.
/// </summary>
public sealed class LoopbackProviderServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    public sealed record Call(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, JsonElement Body, DateTime At)
    {
        /// <summary>The prompt of a generation request, wherever the service's body keeps it.</summary>
        public string? Prompt { get; init; }
    }

    public ConcurrentQueue<Call> Calls { get; } = new();
    public string BaseUrl { get; }

    private LoopbackProviderServer(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    /// <summary>Starts a server whose routes <paramref name="map"/> adds; it is listening when this returns.</summary>
    public static LoopbackProviderServer Start(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        map(app);
        app.StartAsync().GetAwaiter().GetResult();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new LoopbackProviderServer(app, address);
    }

    /// <summary>Reads a request's JSON body (an empty object when it has none) and records the request.</summary>
    public async Task<Call> RecordAsync(HttpContext context, Func<JsonElement, string?>? promptOf = null)
    {
        var body = context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0
            ? (await JsonDocument.ParseAsync(context.Request.Body)).RootElement
            : JsonDocument.Parse("{}").RootElement;
        var call = new Call(context.Request.Method, context.Request.Path, context.Request.QueryString.Value ?? "",
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body, DateTime.UtcNow)
        {
            Prompt = promptOf?.Invoke(body),
        };
        Calls.Enqueue(call);
        return call;
    }

    /// <summary>The generation requests whose prompt is <paramref name="prompt"/>, in arrival order.</summary>
    public List<Call> CallsFor(string prompt) => Calls.Where(c => c.Prompt == prompt).ToList();

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
