using BananaLab.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace BananaLab.Tests.Providers.OpenAI;

/// <summary>
/// The app with <c>openai</c> models pointed at an <see cref="OpenAiLikeServer"/> on loopback, every log line captured:
/// <see cref="Compatible"/> (a name OpenAI does not have, so an OpenAI-compatible server: exact sizes), <see cref="GptImage"/>
/// (gpt-image-1 behind the same server, as behind a proxy), <see cref="DallE3"/>, <see cref="AuthRefused"/> (for the 401, on a
/// model of its own since a refused key switches its model off), <see cref="NoKey"/> (no ApiKey), <see cref="Unreachable"/>
/// (nothing listens at its endpoint) and <see cref="Outage"/> (for 5xx: failures in a row open a model's circuit, which would
/// hold the other tests' tasks in the queue).
/// </summary>
public sealed class OpenAiProviderFactory : BananaLabFactory, IAsyncLifetime
{
    public const string Compatible = "remote-fake";
    public const string GptImage = "remote-gpt";
    public const string DallE3 = "remote-dalle3";
    public const string AuthRefused = "remote-auth";
    public const string LogsAuthRefused = "remote-auth-logs";
    public const string NoKey = "remote-nokey";
    public const string Unreachable = "remote-down";
    public const string Outage = "remote-5xx";

    /// <summary>Where <see cref="Unreachable"/> points: a loopback port nothing listens on.</summary>
    private readonly string _closedEndpoint = $"http://127.0.0.1:{LoopbackPorts.Free()}/v1";

    /// <summary>The key every model but <see cref="NoKey"/> sends; it must never reach a log.</summary>
    public string Key { get; } = "sk-fake-" + Guid.NewGuid().ToString("N");

    public OpenAiLikeServer Remote { get; private set; } = null!;

    public CapturedLogs Logs { get; } = new();

    public async Task InitializeAsync() => Remote = await OpenAiLikeServer.StartAsync();

    Task IAsyncLifetime.DisposeAsync() => Remote.DisposeAsync().AsTask();

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = new Dictionary<string, string?> { ["Worker:MaxAttempts"] = "3", ["Worker:Concurrency"] = "4" };
            foreach (var (id, remoteModel) in new[]
                     {
                         (Compatible, "fake-image-model"), (GptImage, "gpt-image-1"), (DallE3, "dall-e-3"), (AuthRefused, "fake-image-model"),
                         (LogsAuthRefused, "fake-image-model"), (NoKey, "fake-image-model"), (Unreachable, "fake-image-model"),
                         (Outage, "fake-image-model"),
                     })
            {
                settings[$"Models:{id}:DisplayName"] = $"OpenAI provider test {id}";
                settings[$"Models:{id}:Provider"] = "openai";
                settings[$"Models:{id}:Endpoint"] = id == Unreachable ? _closedEndpoint : Remote.Endpoint;
                settings[$"Models:{id}:RemoteModel"] = remoteModel;
                settings[$"Models:{id}:ApiKey"] = id == NoKey ? "" : Key;
                settings[$"Models:{id}:Tiers:1K"] = "3";
                settings[$"Models:{id}:Tiers:2K"] = "6";
                settings[$"Models:{id}:MaxImages"] = "4";
                settings[$"Models:{id}:TimeoutSeconds"] = "30";
            }
            return settings;
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(logging => logging.AddProvider(Logs).AddFilter<CapturedLogs>(null, LogLevel.Trace));
    }
}
