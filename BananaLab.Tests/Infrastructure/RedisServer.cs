using System.Diagnostics;
using StackExchange.Redis;

namespace BananaLab.Tests.Infrastructure;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port with persistence off, started once per test run
/// and stopped when the test process exits (see <see cref="OwnedServers"/>). Tests keep apart by using their own key prefixes and
/// channel names. Needs Debian's <c>redis-server</c> package (<c>.ci/run</c> installs it).
/// </summary>
public sealed class RedisServer
{
    private static readonly Lazy<Task<RedisServer>> SharedServer = new(StartAsync);

    private RedisServer(int port) => Port = port;

    public static Task<RedisServer> Shared => SharedServer.Value;

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false";

    private static async Task<RedisServer> StartAsync()
    {
        var executable = Environment.GetEnvironmentVariable("REDIS_SERVER") is { Length: > 0 } configured ? configured : "/usr/bin/redis-server";
        if (!File.Exists(executable))
            throw new InvalidOperationException(
                "redis-server is not installed: `apt-get install -y redis-server` (the scale-out tests start a temporary server), or set REDIS_SERVER.");
        var port = LoopbackPorts.Free();
        var start = OwnedServers.Watched(executable,
            ["--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes"]);
        var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => OwnedServers.Stop(process, TimeSpan.FromSeconds(5));

        var server = new RedisServer(port);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                await using var connection = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},connectTimeout=500");
                await connection.GetDatabase().PingAsync();
                return server;
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }
}
