using BananaLab.Core.Tasks;
using BananaLab.Worker.Queue;

namespace BananaLab.Tests.Workers;

/// <summary>The wait before a batched claim: none for a lone client or a backlog, some while tasks stream in.</summary>
public sealed class AdaptiveBatchWindowTests
{
    private sealed class Clock(DateTime now) : TimeProvider
    {
        public DateTime Now = now;
        public override DateTimeOffset GetUtcNow() => new(Now, TimeSpan.Zero);
    }

    private static readonly DateTime Start = new(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromMilliseconds(20);

    private static GenerationTask Task(DateTime createdAt, int images = 1) =>
        new() { ModelId = "m", Provider = "p", Prompt = "p", CreatedAt = createdAt, ImageCount = images };

    [Fact]
    public void Nothing_seen_yet_means_no_wait()
    {
        Assert.Equal(TimeSpan.Zero, new AdaptiveBatchWindow(8, MaxDelay, new Clock(Start)).NextDelay());
    }

    [Fact]
    public void A_lone_client_whose_tasks_arrive_further_apart_than_the_maximum_delay_never_waits()
    {
        var clock = new Clock(Start);
        var window = new AdaptiveBatchWindow(8, MaxDelay, clock);
        for (var i = 0; i < 5; i++)
        {
            window.Observe([Task(Start.AddMilliseconds(400 * i))]);
            clock.Now = Start.AddMilliseconds(400 * i + 1);
        }
        Assert.Equal(TimeSpan.Zero, window.NextDelay());
    }

    [Fact]
    public void Tasks_streaming_in_make_it_wait_for_the_missing_images_at_most_the_maximum()
    {
        var clock = new Clock(Start);
        var window = new AdaptiveBatchWindow(8, MaxDelay, clock);
        // One task every 2 ms, claimed two at a time: six images missing take about 12 ms to arrive.
        for (var i = 0; i < 10; i += 2) window.Observe([Task(Start.AddMilliseconds(2 * i)), Task(Start.AddMilliseconds(2 * i + 2))]);
        clock.Now = Start.AddMilliseconds(20);
        Assert.Equal(2, window.MeanInterval!.Value.TotalMilliseconds, precision: 3);
        Assert.Equal(TimeSpan.FromMilliseconds(12), window.NextDelay());

        // Every 5 ms: six missing images would take 30 ms; the wait stops at the maximum.
        var slow = new AdaptiveBatchWindow(8, MaxDelay, clock);
        for (var i = 0; i < 10; i += 2) slow.Observe([Task(Start.AddMilliseconds(5 * i)), Task(Start.AddMilliseconds(5 * i + 5))]);
        clock.Now = Start.AddMilliseconds(50);
        Assert.Equal(MaxDelay, slow.NextDelay());
    }

    [Fact]
    public void A_full_last_claim_or_paused_traffic_means_no_wait()
    {
        var clock = new Clock(Start);
        var window = new AdaptiveBatchWindow(4, MaxDelay, clock);
        window.Observe([.. Enumerable.Range(0, 4).Select(i => Task(Start.AddMilliseconds(i)))]);
        clock.Now = Start.AddMilliseconds(5);
        Assert.Equal(TimeSpan.Zero, window.NextDelay()); // a backlog: the next claim is likely full too

        window.Observe([Task(Start.AddMilliseconds(5))]);
        Assert.True(window.NextDelay() > TimeSpan.Zero);
        clock.Now = Start.AddSeconds(5);
        Assert.Equal(TimeSpan.Zero, window.NextDelay()); // nothing for seconds: the stream has stopped
    }

    [Fact]
    public void Without_batching_it_never_waits()
    {
        var clock = new Clock(Start);
        var window = new AdaptiveBatchWindow(1, MaxDelay, clock);
        for (var i = 0; i < 10; i++) window.Observe([Task(Start.AddMilliseconds(i))]);
        Assert.Equal(TimeSpan.Zero, window.NextDelay());
    }
}
