using System.Diagnostics;
using System.Net.Sockets;
using Npgsql;

namespace BananaLab.Tests.Infrastructure;

/// <summary>
/// A real PostgreSQL server for the scale-out tests: a temporary cluster (initdb) on a free loopback
/// port, started once per test run and stopped when the test process exits. Each test takes a fresh
/// database of its own (<see cref="CreateDatabaseAsync"/>). Run as root (CI), the server runs as the
/// <c>postgres</c> user, which PostgreSQL insists on. Needs Debian's <c>postgresql</c> package
/// (<c>.ci/run</c> installs it); without it the tests fail and say so.
/// </summary>
public sealed class PostgresServer
{
    private static readonly Lazy<Task<PostgresServer>> SharedServer = new(StartAsync);

    private readonly Process _process;

    private PostgresServer(Process process, int port, string directory)
    {
        _process = process;
        Port = port;
        Directory = directory;
    }

    public static Task<PostgresServer> Shared => SharedServer.Value;

    public int Port { get; }
    public string Directory { get; }

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Database={database};Username=bananalab;Pooling=true;Maximum Pool Size=50";

    /// <summary>A new empty database; BananaLab's migrations create the tables on first start.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "t_" + Guid.NewGuid().ToString("N")[..16];
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    private static async Task<PostgresServer> StartAsync()
    {
        var bin = FindBinDirectory();
        var directory = Path.Combine(Path.GetTempPath(), "bananalab-pg-" + Guid.NewGuid().ToString("N")[..8]);
        var data = Path.Combine(directory, "data");
        System.IO.Directory.CreateDirectory(directory);
        var asRoot = Environment.UserName == "root";
        if (asRoot) Run("chown", "postgres:postgres", directory);

        Run(AsServerUser(asRoot, Path.Combine(bin, "initdb"), "-D", data, "-U", "bananalab", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"));

        var port = LoopbackPorts.Free();
        // Durability settings off: a test server never needs to survive a power cut, and fsync makes
        // every commit wait on this machine's disk.
        var (file, args) = AsServerUser(asRoot, Path.Combine(bin, "postgres"), "-D", data, "-p", port.ToString(),
            "-k", directory, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off", "-c", "max_connections=300", "-c", "shared_buffers=128MB");
        var process = Process.Start(OwnedServers.Watched(file, args, stopSignal: "INT", removeOnExit: directory))
            ?? throw new InvalidOperationException("postgres did not start");
        var log = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => OwnedServers.Stop(process, TimeSpan.FromSeconds(10));

        var server = new PostgresServer(process, port, directory);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(server.ConnectionString("postgres"));
                await connection.OpenAsync();
                return server;
            }
            catch (Exception e) when (DateTime.UtcNow < deadline && !process.HasExited && e is NpgsqlException or SocketException)
            {
                await Task.Delay(100);
            }
            catch (Exception e)
            {
                string text;
                lock (log) text = log.ToString();
                throw new InvalidOperationException($"PostgreSQL did not come up on port {port}: {e.Message}\n{text}");
            }
        }
    }

    private static string FindBinDirectory()
    {
        if (Environment.GetEnvironmentVariable("PG_BIN") is { Length: > 0 } configured) return configured;
        const string root = "/usr/lib/postgresql";
        var found = System.IO.Directory.Exists(root)
            ? System.IO.Directory.GetDirectories(root).Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "postgres"))).OrderByDescending(d => d.Length).ThenByDescending(d => d).FirstOrDefault()
            : null;
        return found ?? throw new InvalidOperationException(
            "PostgreSQL is not installed: `apt-get install -y postgresql` (the scale-out tests start a temporary server), or set PG_BIN.");
    }

    /// <summary>PostgreSQL refuses to run as root; <c>setpriv</c> drops to the postgres user without a shell in between.</summary>
    private static (string File, string[] Args) AsServerUser(bool asRoot, string file, params string[] args) =>
        asRoot ? ("setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", file, .. args]) : (file, args);

    private static void Run((string File, string[] Args) command) => Run(command.File, command.Args);

    private static void Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {stderr}{stdout.Result}");
    }
}
