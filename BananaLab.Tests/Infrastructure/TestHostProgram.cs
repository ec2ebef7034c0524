namespace BananaLab.Tests.Infrastructure;

/// <summary>
/// The test assembly's entry point, used only by crash-recovery tests to run the real app as a separate
/// OS process (so it can be SIGKILLed): <c>dotnet BananaLab.Tests.dll serve DATA_DIR PORT WORKER_NAME</c>.
/// The test runner never calls it.
/// </summary>
public static class TestHostProgram
{
    public static int Main(string[] args)
    {
        if (args is not ["serve", var dataDirectory, var port, var workerName])
        {
            Console.Error.WriteLine("usage: BananaLab.Tests.dll serve DATA_DIR PORT WORKER_NAME");
            return 2;
        }
        using var factory = new ChildProcessFactory(dataDirectory, workerName);
        factory.UseKestrel(int.Parse(port));
        factory.StartServer();
        Console.WriteLine("listening");
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    private sealed class ChildProcessFactory(string dataDirectory, string workerName) : BananaLabFactory(dataDirectory)
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Worker:Name"] = workerName,
            ["Worker:Concurrency"] = "2",
            ["Worker:LeaseSeconds"] = "2",
            ["Worker:HeartbeatMs"] = "200",
        };
    }
}
