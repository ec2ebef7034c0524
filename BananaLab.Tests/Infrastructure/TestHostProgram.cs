using BananaLab.Core.Generation;
using BananaLab.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BananaLab.Tests.Infrastructure;

/// <summary>
/// The test assembly's entry point, used only by tests that need the real app as separate OS processes
/// (so they can be SIGKILLed, or form a cluster). The test runner never calls it.
/// <list type="bullet">
/// <item><c>web DATA_DIR PORT [Key=Value ...]</c>: the web host (with its in-process worker unless
/// <c>Worker:Enabled=false</c>) on 127.0.0.1:PORT with the test settings and scripted test models.</item>
/// <item><c>worker DATA_DIR [Key=Value ...]</c>: the worker process exactly as <c>BananaLab.Worker</c>
/// composes it, plus the scripted generator.</item>
/// </list>
/// </summary>
public static class TestHostProgram
{
    public static int Main(string[] args)
    {
        switch (args)
        {
            case ["web", var dataDirectory, var port, .. var settings]:
            {
                using var factory = new ChildProcessFactory(dataDirectory, Parse(settings));
                factory.UseKestrel(int.Parse(port));
                factory.StartServer();
                Console.WriteLine("listening");
                Thread.Sleep(Timeout.Infinite);
                return 0;
            }
            case ["worker", var dataDirectory, .. var settings]:
            {
                var configuration = BananaLabFactory.TestSettings(dataDirectory);
                foreach (var (key, value) in Parse(settings)) configuration[key] = value;
                // Command-line settings are the configuration's last word, and are read before any service is added.
                var builder = WorkerProgram.CreateBuilder([.. configuration.Select(pair => $"--{pair.Key}={pair.Value}")]);
                builder.Services.AddImageGenerator<ScriptedGenerator>();
                using var host = builder.Build();
                host.Run();
                return 0;
            }
            default:
                Console.Error.WriteLine("usage: BananaLab.Tests.dll web DATA_DIR PORT [Key=Value ...] | worker DATA_DIR [Key=Value ...]");
                return 2;
        }
    }

    private static Dictionary<string, string?> Parse(IEnumerable<string> settings) =>
        settings.Select(s => s.Split('=', 2)).ToDictionary(p => p[0], p => (string?)p[1]);

    private sealed class ChildProcessFactory(string dataDirectory, IDictionary<string, string?> settings) : BananaLabFactory(dataDirectory)
    {
        protected override IDictionary<string, string?> Settings => settings;
    }
}
