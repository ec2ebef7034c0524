using System.Diagnostics;

namespace BananaLab.Tests.Infrastructure;

/// <summary>
/// Starts a server the test run owns (redis-server, postgres) under a small shell watchdog that stops it (with
/// the server's own shutdown signal) and removes its folder once the test process is gone. The test host is often ended before its
/// ProcessExit handlers run, which left a redis-server running and a PostgreSQL folder in /tmp after every run.
/// Stop the server early by sending the watchdog SIGTERM (<see cref="Stop"/>); never SIGKILL it, which would
/// orphan the server.
/// </summary>
public static class OwnedServers
{
    private const string Watchdog = """
        "$@" & server=$!
        trap 'kill -$STOP_SIGNAL $server 2>/dev/null' TERM INT
        while kill -0 "$OWNER_PID" 2>/dev/null && kill -0 $server 2>/dev/null; do sleep 1; done
        kill -$STOP_SIGNAL $server 2>/dev/null
        wait $server
        if [ -n "$REMOVE_ON_EXIT" ]; then rm -rf "$REMOVE_ON_EXIT"; fi
        """;

    /// <summary>
    /// Start info for <paramref name="file"/> <paramref name="args"/> under the watchdog. <paramref name="stopSignal"/>
    /// is the server's quick clean shutdown (redis: TERM; postgres: INT, its "fast shutdown"); <paramref name="removeOnExit"/>
    /// is deleted after the server stops.
    /// </summary>
    public static ProcessStartInfo Watched(string file, IEnumerable<string> args, string stopSignal = "TERM", string? removeOnExit = null)
    {
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-c", Watchdog, "watchdog", file }.Concat(args)) start.ArgumentList.Add(arg);
        start.Environment["OWNER_PID"] = Environment.ProcessId.ToString();
        start.Environment["REMOVE_ON_EXIT"] = removeOnExit ?? "";
        start.Environment["STOP_SIGNAL"] = stopSignal;
        return start;
    }

    /// <summary>Asks the watchdog to stop its server (and clean up), waiting up to <paramref name="timeout"/>.</summary>
    public static void Stop(Process watchdog, TimeSpan timeout)
    {
        try
        {
            if (watchdog.HasExited) return;
            Process.Start("kill", ["-TERM", watchdog.Id.ToString()])?.WaitForExit();
            watchdog.WaitForExit(timeout);
        }
        catch
        {
            // Best effort: the watchdog also stops the server once this process is gone.
        }
    }
}
