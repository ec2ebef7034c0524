using System.Diagnostics;
using System.Net;
using BananaLab.Core.Tasks;

namespace BananaLab.Hosting;

/// <summary>
/// The app started as a user starts it, as a child process: the README's <c>dotnet run --project BananaLab.Web</c>
/// (or <c>dotnet BananaLab.Web.dll</c> in a publish output) in the default environment, with settings passed the way
/// a user passes them, as <c>Section__Key</c> environment variables. One home for the tests' <c>ProductionHost</c>
/// and the screenshot tool, which link this file.
/// </summary>
internal static class AppProcess
{
    /// <summary>
    /// The README's run command. <c>--no-build</c> is the one addition: whoever calls this (<c>dotnet test</c>,
    /// <c>dotnet run --project tools/screenshots</c>) has just built the same project in the same configuration.
    /// </summary>
    public static readonly string[] ReadmeRun = ["run", "--no-build", "--project", "BananaLab.Web", "--"];

    /// <summary>A publish output's start command, run in that folder.</summary>
    public static readonly string[] Published = ["BananaLab.Web.dll"];

    /// <summary>
    /// <c>dotnet ARGUMENTS --urls http://127.0.0.1:PORT</c> in <paramref name="workingDirectory"/>, with every
    /// setting as an environment variable and nothing inherited that would change the environment or the URL.
    /// </summary>
    public static ProcessStartInfo StartInfo(string workingDirectory, IEnumerable<string> arguments, int port,
        IReadOnlyDictionary<string, string?> settings, bool redirectOutput) =>
        CommandInfo(workingDirectory, arguments.Concat(["--urls", $"http://127.0.0.1:{port}"]), settings, redirectOutput);

    /// <summary><c>dotnet ARGUMENTS</c> (a command such as <c>create-api-key</c>) with the same settings and clean environment.</summary>
    public static ProcessStartInfo CommandInfo(string workingDirectory, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?> settings, bool redirectOutput)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = redirectOutput,
            RedirectStandardError = redirectOutput,
        };
        foreach (var arg in arguments) start.ArgumentList.Add(arg);
        foreach (var variable in new[] { "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT", "ASPNETCORE_URLS", "DOTNET_URLS" })
            start.Environment.Remove(variable);
        foreach (var (key, value) in settings) start.Environment[key.Replace(":", "__")] = value;
        return start;
    }

    /// <summary>Waits until <c>/readyz</c> answers 200; throws with <paramref name="recentLog"/> when the process exits or time runs out.</summary>
    public static async Task WaitReadyAsync(Process process, Uri baseAddress, TimeSpan timeout, Func<string> recentLog)
    {
        using var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"The app exited with code {process.ExitCode} before it was ready:{Environment.NewLine}{recentLog()}");
            try
            {
                if ((await client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"The app was not ready within {timeout}:{Environment.NewLine}{recentLog()}");
            await Task.Delay(250);
        }
    }

    /// <summary>
    /// Waits for a task to end by reading the shared database: the app's task events stay in its own process, so
    /// <see cref="TaskService.WaitAsync"/> in another process would only time out.
    /// </summary>
    public static async Task<TaskSnapshot> WaitForFinishAsync(TaskService tasks, Guid taskId, TimeSpan timeout, Func<string> recentLog)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var task = (await tasks.GetAsync(taskId, null, CancellationToken.None))?.Task
                ?? throw new InvalidOperationException($"Task {taskId} does not exist.");
            if (task.IsTerminal) return task;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Task {taskId} is still {task.Status} after {timeout}:{Environment.NewLine}{recentLog()}");
            await Task.Delay(200);
        }
    }
}
