using System.Diagnostics;
using BananaLab.Core.Catalog;
using BananaLab.Core.Data;
using BananaLab.Core.Generation;
using BananaLab.Core.Health;
using BananaLab.Core.Moderation;
using BananaLab.Core.Storage;
using BananaLab.Core.Tasks;
using BananaLab.Core.Workers;
using BananaLab.Worker.Finishing;
using BananaLab.Worker.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BananaLab.Worker.Queue;

/// <summary>
/// Claims queued tasks of the models it serves and runs them with the generator of their provider: local models
/// <c>Worker:Concurrency</c> at a time, each remote model in its own pool (<see cref="ClaimPool"/>), skipping models whose
/// circuit is open (<see cref="ModelCircuits"/>). Local models whose generator shares runs are claimed in batches: the
/// oldest task with the queued tasks that can share its UNet calls (<see cref="BatchClaim"/>), after a wait that adapts
/// to the traffic (<see cref="AdaptiveBatchWindow"/>); each task of a batch still runs, settles and fails on its own
/// (<see cref="SharedRun"/>). A failure of one task never stops the loop. On shutdown it stops
/// claiming, gives running tasks <c>Worker:ShutdownGraceSeconds</c> to finish, then stops them and hands them back to
/// the queue.
/// </summary>
public sealed class TaskWorker(
    TaskQueue queue,
    TaskQueueSignal signal,
    TaskNotifier notifier,
    GenerationTimings timings,
    RunningTasks runningTasks,
    ModelCatalog catalog,
    ImageFinisher finisher,
    ImageStore imageStore,
    IImageModerator imageModerator,
    ModerationLog moderationLog,
    GenerationProviders providers,
    LocalWorkerModels served,
    ModelCircuits circuits,
    Readiness readiness,
    BatchMetrics batchMetrics,
    TimeProvider clock,
    IOptions<WorkerOptions> options,
    ILogger<TaskWorker> logger) : BackgroundService
{
    private readonly WorkerOptions _options = options.Value;

    /// <summary>
    /// Canceled when the shutdown grace period is over: running generations stop then. Never disposed:
    /// the host may call StopAsync after disposing its services, and its timer ends with the cancel.
    /// </summary>
    private readonly CancellationTokenSource _abort = new();

    /// <summary>Claim any model (every catalog model is served, in one pool): a task of a model since removed then fails at once.</summary>
    private bool _claimsAnyModel;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pools = ClaimPool.Plan(served, catalog, providers, _options);
        _claimsAnyModel = _options.Models.Count == 0 && served.Models.Count == catalog.All.Count && pools.Count == 1;
        if (served.Models.Count == 0) logger.LogWarning("Worker {Name} has a generator for none of the catalog's models", _options.Name);
        while (!readiness.DatabaseReady) await Task.Delay(20, stoppingToken);
        var recovered = await queue.RecoverExpiredLeasesAsync(_options.MaxAttempts, stoppingToken, orphanedBy: _options.Name);
        if (recovered > 0) logger.LogWarning("Recovered {Count} tasks left running by a stopped worker", recovered);

        var loops = pools.Select(pool => PoolLoopAsync(pool, stoppingToken)).ToList();
        loops.Add(RecoveryLoopAsync(stoppingToken));
        readiness.WorkerRunning = true;
        logger.LogInformation("Worker {Name} running {Pools}", _options.Name,
            string.Join("; ", pools.Select(p => $"{p.Slots} task(s) at a time of {(p.ModelIds.Count == 0 ? "no model" : string.Join(", ", p.ModelIds))}")));
        try
        {
            await Task.WhenAll(loops);
        }
        finally
        {
            readiness.WorkerRunning = false;
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _abort.CancelAfter(TimeSpan.FromSeconds(_options.ShutdownGraceSeconds));
        await base.StopAsync(cancellationToken);
    }

    /// <summary>
    /// Claims tasks of the pool's models while it has a free slot and runs each without waiting for it; when the queue has
    /// none it waits for a wake-up or the poll interval. Returns once stopping, after its running tasks have ended.
    /// </summary>
    private async Task PoolLoopAsync(ClaimPool pool, CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromMilliseconds(_options.PollIntervalMs);
        var window = new AdaptiveBatchWindow(pool.Batch.MaxImages, TimeSpan.FromMilliseconds(_options.MaxBatchDelayMs), clock);
        using var slots = new SemaphoreSlim(pool.Slots);
        var running = new List<Task>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await slots.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            try
            {
                var claimable = pool.ModelIds.Where(circuits.AllowsClaim).ToArray();
                var waited = claimable.Length == 0 ? TimeSpan.Zero : window.NextDelay();
                if (waited > TimeSpan.Zero) await Task.Delay(waited, stoppingToken);
                var tasks = claimable.Length == 0 ? []
                    : await queue.ClaimBatchAsync(_options.Name, _options.Lease, pool.Batch, stoppingToken,
                        _claimsAnyModel && claimable.Length == pool.ModelIds.Count ? null : claimable);
                if (claimable.Length > 0) window.Observe(tasks);
                if (tasks.Count == 0)
                {
                    slots.Release();
                    await signal.WaitAsync(poll, stoppingToken);
                    continue;
                }
                if (pool.IsLocal) batchMetrics.Observe(tasks[0].ModelId, tasks.Sum(t => t.ImageCount), waited);
                running.RemoveAll(t => t.IsCompleted);
                running.Add(RunInSlotAsync(tasks, slots));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                slots.Release();
                break;
            }
            catch (Exception e)
            {
                slots.Release();
                logger.LogError(e, "Worker loop error; continuing");
                await Task.Delay(poll, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        await Task.WhenAll(running);
    }

    /// <summary>Runs one claim: one task alone, or a batch whose tasks share their generation (<see cref="SharedRun"/>).</summary>
    private async Task RunInSlotAsync(IReadOnlyList<GenerationTask> tasks, SemaphoreSlim slots)
    {
        // A batch is claimed only for models whose generator shares runs (ClaimPool.Batch).
        var shared = tasks.Count > 1 && providers.Find(tasks[0].Provider) is IBatchingImageGenerator generator
            ? new SharedRun(finisher, generator, tasks.Select(t => t.Id).ToList())
            : null;
        try
        {
            await Task.Yield(); // the claim loop goes on to its next claim at once
            await Task.WhenAll(tasks.Select(RunMemberAsync));
        }
        catch (Exception e)
        {
            logger.LogError(e, "Tasks {TaskIds}: the run failed outside its own error handling", string.Join(", ", tasks.Select(t => t.Id)));
        }
        finally
        {
            slots.Release();
        }

        // A member whose run ends before it joins, even by an exception outside its own handling, must not hold the others.
        async Task RunMemberAsync(GenerationTask task)
        {
            try
            {
                await RunAsync(task, _abort.Token, shared);
            }
            finally
            {
                shared?.Leave(task.Id);
            }
        }
    }

    private async Task RecoveryLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.RecoveryIntervalSeconds));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    if (await queue.RecoverExpiredLeasesAsync(_options.MaxAttempts, stoppingToken) > 0) signal.Notify();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "Lease recovery failed; will retry");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Runs one claimed task, alone or as a member of <paramref name="shared"/>; <paramref name="abortToken"/> fires when the
    /// shutdown grace period is over.
    /// </summary>
    private async Task RunAsync(GenerationTask task, CancellationToken abortToken, SharedRun? shared)
    {
        var retryDelay = TimeSpan.FromMilliseconds(_options.RetryBaseDelayMs);
        circuits.Started(task.ModelId);
        var reported = false;
        Task Fail(string code, string message, bool transient, TimeSpan? retryAfter = null)
        {
            reported = true;
            circuits.Failed(task.ModelId, code, message);
            return queue.FailAsync(task, _options.Name, code, message, transient, _options.MaxAttempts, retryDelay, CancellationToken.None, retryAfter);
        }

        var model = catalog.Find(task.ModelId);
        var generator = providers.Find(task.Provider);
        if (model is null || generator is null)
        {
            await Fail(TaskErrors.GeneratorUnavailable,
                model is null ? $"The model '{task.ModelId}' is no longer offered." : $"No generator is installed for provider '{task.Provider}'.",
                transient: false);
            return;
        }

        using var run = runningTasks.Register(task.Id, abortToken);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(model.TimeoutSeconds));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(run.Token, timeout.Token);
        var shape = RunShape.Of(task);
        var progress = new ProgressReporter(task, notifier, timings.Estimate(task.ModelId, shape) ?? RunEstimate.Unmeasured);
        var heartbeat = new Heartbeat(queue, task.Id, _options, progress, run);
        var heartbeatLoop = heartbeat.RunAsync(linked.Token);
        using var output = imageStore.CreateOutput(task);
        var clock = Stopwatch.StartNew();
        try
        {
            var request = new GenerationRequest(task.Id, model, task.Prompt, task.NegativePrompt, task.Width, task.Height,
                task.ImageCount, task.Seed, task.Steps, task.Guidance, task.OutputFormat,
                task.ReferenceImagePath is null ? null : imageStore.FullPath(task.ReferenceImagePath), task.ReferenceStrength ?? 0.75)
            {
                MaskImagePath = task.ReferenceImagePath is { } reference && File.Exists(imageStore.FullPath(ImageStore.MaskPathOf(reference)))
                    ? imageStore.FullPath(ImageStore.MaskPathOf(reference)) : null,
                ReferenceFit = task.ReferenceFit,
            };
            var result = shared is null
                ? await finisher.GenerateAsync(generator, request, progress, output, linked.Token)
                : await shared.JoinAsync(task.Id, request, progress, output, linked.Token);
            var computeMs = clock.ElapsedMilliseconds;
            await StopHeartbeatAsync();

            if (result.Images.Count != task.ImageCount)
            {
                await Fail(TaskErrors.NoImage, result.Images.Count == 0
                    ? "The model finished without producing an image."
                    : $"The model produced {result.Images.Count} of {task.ImageCount} images.", transient: true);
                return;
            }
            if (await FindBlockedOutputAsync(task, result, output) is { } blocked)
            {
                await moderationLog.RecordAsync(blocked, CancellationToken.None);
                await Fail(TaskErrors.OutputBlocked, ModerationDecision.NeutralMessage, transient: false);
                return;
            }
            var images = output.Commit(task.Id, result.Images);
            reported = true;
            circuits.Succeeded(task.ModelId);
            if (!await queue.CompleteAsync(task, _options.Name, images, computeMs, CancellationToken.None, progress.Finish(shape)))
                foreach (var image in images) imageStore.DeleteQuietly(image.FilePath);
        }
        catch (OperationCanceledException) when (abortToken.IsCancellationRequested)
        {
            await StopHeartbeatAsync();
            await queue.ReleaseToQueueAsync(task, _options.Name, CancellationToken.None);
            logger.LogInformation("Task {TaskId} returned to the queue: the worker is stopping", task.Id);
        }
        catch (OperationCanceledException) when (heartbeat.LeaseLost)
        {
            await StopHeartbeatAsync();
            logger.LogWarning("Task {TaskId} abandoned: the lease was lost", task.Id);
        }
        catch (OperationCanceledException) when (run.IsCancellationRequested)
        {
            await StopHeartbeatAsync();
            // Keep how far it got (the heartbeat may not have saved the last steps).
            task.ProgressPercent = Math.Max(task.ProgressPercent, progress.Percent);
            await Fail(TaskErrors.Canceled, TaskTransitions.Messages.CanceledWhileRunning, transient: false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            await StopHeartbeatAsync();
            // Not retried: the whole of the model's time is spent, and a second try would wait as long again.
            await Fail(TaskErrors.ProviderTimeout, $"The model did not finish within {model.TimeoutSeconds} seconds.", transient: false);
        }
        catch (ProviderRefusedException e)
        {
            await StopHeartbeatAsync();
            // The provider's own moderation: on record for the admins' review with its reason; the user sees our neutral message.
            await moderationLog.RecordAsync(ModerationDecisionRecord.From(
                new ModerationDecision(false, ["provider"], [], Note: e.ProviderReason), task.UserId, task.Id, "provider", task.Source,
                DateTime.UtcNow), CancellationToken.None);
            logger.LogInformation("Task {TaskId} refused by its provider {Provider}", task.Id, task.Provider);
            await Fail(e.Code, e.Message, transient: false);
        }
        catch (GenerationException e)
        {
            await StopHeartbeatAsync();
            logger.LogWarning(e, "Task {TaskId} failed: {Code}", task.Id, e.Code);
            await Fail(e.Code, e.Message, e.Transient, e.RetryAfter);
        }
        catch (Exception e)
        {
            await StopHeartbeatAsync();
            logger.LogError(e, "Task {TaskId} failed unexpectedly", task.Id);
            await Fail(TaskErrors.GenerationFailed, "The model failed while generating this image.", transient: true);
        }
        finally
        {
            runningTasks.Unregister(task.Id);
            // Handed back at shutdown, or its lease lost: no verdict on the provider.
            if (!reported) circuits.Left(task.ModelId);
        }

        async Task StopHeartbeatAsync()
        {
            heartbeat.Stop();
            await heartbeatLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Runs the configured image classifier over every output; returns the first refusal's record.</summary>
    private async Task<ModerationDecisionRecord?> FindBlockedOutputAsync(GenerationTask task, GenerationResult result, TaskImageWriter output)
    {
        if (!imageModerator.IsConfigured) return null;
        foreach (var image in result.Images)
        {
            var decision = await imageModerator.CheckAsync(output.ReadWritten(image.Index), CancellationToken.None);
            var record = ModerationDecisionRecord.From(decision, task.UserId, task.Id, "output_image", task.Source, DateTime.UtcNow);
            if (!decision.Allowed) return record;
            await moderationLog.RecordAsync(record, CancellationToken.None);
        }
        return null;
    }

    /// <summary>
    /// Forwards each step and phase to listeners at once, with the percent weighted by the model's measured phase costs
    /// (never 100: that is the stored result's) and the seconds left; the percent reaches the database with the next
    /// heartbeat. Once this run has timed its own steps, its denoising estimate is this run's pace rather than the
    /// model's average (a run slower or faster than the last ones must not sit at one percent). Also times the phases,
    /// for <see cref="GenerationTimings"/>.
    /// </summary>
    private sealed class ProgressReporter(GenerationTask task, TaskNotifier notifier, RunEstimate modelEstimate) : IGenerationProgress
    {
        private readonly RunEstimate _modelEstimate = modelEstimate;
        private RunEstimate _estimate = modelEstimate;
        private readonly Lock _lock = new();
        private readonly long _startedAt = Stopwatch.GetTimestamp();
        private GenerationPhase _phase = GenerationPhase.Denoising;
        private long _phaseStartedAt, _firstStepAt, _lastStepAt;
        private int _firstStep, _lastStep, _totalSteps;
        private double _upscaleSeconds, _encodeSeconds;
        public volatile int Percent;

        public void Report(GenerationProgress progress)
        {
            int step, totalSteps;
            lock (_lock)
            {
                var now = Stopwatch.GetTimestamp();
                if (progress.Phase == GenerationPhase.Denoising && progress.TotalSteps > 0)
                {
                    if (_firstStepAt == 0) (_firstStepAt, _firstStep) = (now, progress.Step);
                    (_lastStepAt, _lastStep, _totalSteps) = (now, progress.Step, progress.TotalSteps);
                    if (_modelEstimate.Measured && SecondsPerStep() is var pace and > 0)
                        _estimate = _modelEstimate with { DenoiseSeconds = pace * progress.TotalSteps };
                }
                else if (progress.Phase != GenerationPhase.Denoising)
                {
                    CloseFinishingSegment(now);
                    (_phase, _phaseStartedAt) = (progress.Phase, now);
                }
                // Finishing reports carry no steps: keep saying how far denoising got.
                (step, totalSteps) = (_lastStep, _totalSteps);
                Percent = Math.Max(Percent, _estimate.PercentAt(progress));
            }
            notifier.Publish(new TaskEvent(task.Id, task.UserId, TaskEventKind.Progress, GenerationTaskStatus.Running,
                Percent, step, totalSteps, progress.PreviewPng, ReportedPhase: progress.Phase, Image: progress.Image,
                ImageCount: progress.ImageCount, EtaSeconds: _estimate.SecondsLeftAt(progress)));
        }

        /// <summary>
        /// What the run took, measured when its images are stored. Seconds per step come from the steps between the first
        /// and the last report (model loading and prompt encoding stay out); with one step reported, from the run's start.
        /// A generator that reports no finishing phases has all its time after the last step counted as encoding.
        /// </summary>
        public RunTiming Finish(RunShape submitted)
        {
            lock (_lock)
            {
                var now = Stopwatch.GetTimestamp();
                if (_phase == GenerationPhase.Denoising && _lastStepAt != 0) _encodeSeconds += Stopwatch.GetElapsedTime(_lastStepAt, now).TotalSeconds;
                else CloseFinishingSegment(now);
                _phase = GenerationPhase.Done;
                var shape = _totalSteps > 0 ? submitted with { DenoiseSteps = _totalSteps } : submitted;
                return new RunTiming(shape, SecondsPerStep(), _upscaleSeconds, _encodeSeconds);
            }
        }

        /// <summary>This run's seconds per denoising step so far (0 before the first step); call under the lock.</summary>
        private double SecondsPerStep() => _lastStep > _firstStep
            ? Stopwatch.GetElapsedTime(_firstStepAt, _lastStepAt).TotalSeconds / (_lastStep - _firstStep)
            : _firstStepAt != 0 ? Stopwatch.GetElapsedTime(_startedAt, _firstStepAt).TotalSeconds / Math.Max(1, _firstStep) : 0;

        private void CloseFinishingSegment(long now)
        {
            var seconds = _phaseStartedAt == 0 ? 0 : Stopwatch.GetElapsedTime(_phaseStartedAt, now).TotalSeconds;
            if (_phase == GenerationPhase.Upscaling) _upscaleSeconds += seconds;
            else if (_phase == GenerationPhase.Encoding) _encodeSeconds += seconds;
        }
    }

    /// <summary>Renews the lease, saves progress and notices cancel requests from other processes.</summary>
    private sealed class Heartbeat(TaskQueue queue, Guid taskId, WorkerOptions options, ProgressReporter progress,
        CancellationTokenSource run)
    {
        private readonly CancellationTokenSource _stop = new();
        public bool LeaseLost { get; private set; }

        public void Stop() => _stop.Cancel();

        public async Task RunAsync(CancellationToken runToken)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(runToken, _stop.Token);
            var interval = TimeSpan.FromMilliseconds(Math.Min(options.HeartbeatMs, options.LeaseSeconds * 1000 / 3));
            var savedPercent = 0;
            using var timer = new PeriodicTimer(interval);
            while (await timer.WaitForNextTickAsync(linked.Token))
            {
                var (owned, cancelRequested) = await queue.RenewLeaseAsync(taskId, options.Name, options.Lease, linked.Token);
                if (!owned) { LeaseLost = true; await run.CancelAsync(); return; }
                if (cancelRequested) { await run.CancelAsync(); return; }
                var percent = progress.Percent;
                if (percent != savedPercent)
                {
                    await queue.SaveProgressAsync(taskId, options.Name, percent, linked.Token);
                    savedPercent = percent;
                }
            }
        }
    }
}
