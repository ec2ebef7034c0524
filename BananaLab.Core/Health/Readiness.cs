namespace BananaLab.Core.Health;

/// <summary>What this process's start-up has reached, for <c>/readyz</c>: the database is migrated, and the worker (if this process runs one) runs.</summary>
public sealed class Readiness
{
    public volatile bool DatabaseReady;
    public volatile bool WorkerRunning;
    public bool WorkerExpected { get; set; }

    public bool IsReady => DatabaseReady && (!WorkerExpected || WorkerRunning);
}
