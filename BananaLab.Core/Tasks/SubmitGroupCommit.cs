using System.ComponentModel.DataAnnotations;
using System.Threading.Channels;
using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Idempotency;
using BananaLab.Core.Moderation;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BananaLab.Core.Tasks;

/// <summary>The <c>Tasks</c> section: how the submit path groups concurrent submissions into one transaction.</summary>
public sealed class TasksOptions
{
    public const string Section = "Tasks";

    /// <summary>Submissions (each with all its tasks) written in one transaction at most; 1 commits each on its own.</summary>
    [Range(1, 1000, ErrorMessage = "Tasks:SubmitBatchMax must be between 1 and 1000.")]
    public int SubmitBatchMax { get; set; } = 64;
}

/// <summary>One submission waiting for <see cref="SubmitGroupCommit"/>: the tasks of a request, all or nothing.</summary>
/// <param name="Decisions">The tasks' moderation decisions, stored with them.</param>
/// <param name="IdempotencyRecordId">The request's <c>Idempotency-Key</c> claim, linked to <paramref name="LinkedId"/> in the same transaction.</param>
/// <param name="LinkedId">The batch id, or the one task's id: what a replay of the key answers with.</param>
/// <param name="CancellationToken">The caller's: canceled before the commit, the submission writes nothing.</param>
public sealed record PendingSubmission(Guid UserId, IReadOnlyList<GenerationTask> Tasks, IReadOnlyList<ModerationDecisionRecord> Decisions,
    long? IdempotencyRecordId, Guid LinkedId, CancellationToken CancellationToken);

/// <summary>
/// A committed submission's tasks' places in line and ETAs (<see cref="TaskReader.StandingsAsync"/>), in task order; or,
/// when nothing was written, why (<see cref="TaskErrors.InsufficientCredits"/>, <see cref="TaskErrors.UserDisabled"/>).
/// </summary>
/// <param name="GroupSize">How many submissions shared the transaction (itself included), for diagnostics and benchmarks.</param>
public sealed record SubmissionCommit(IReadOnlyList<(int Position, int? EtaSeconds)> Standings, int GroupSize, TaskError? Refused = null);

/// <summary>
/// The group commit of the submit path. Callers hand their moderated tasks to <see cref="CommitAsync"/>; one writer drains
/// the waiting submissions (up to <see cref="TasksOptions.SubmitBatchMax"/>) and writes them in one transaction, each
/// behind its own savepoint, with prepared statements (<see cref="RowInsert{T}"/>, <see cref="CreditLedger.ReservationWriter"/>):
/// per task the balance update, the reservation, the task row and its moderation decisions; per submission the
/// idempotency link. After the commit it publishes each task's <see cref="TaskEventKind.Queued"/> event and wakes the
/// claim loops (<see cref="TaskQueueSignal"/>). The guarantees of a transaction per submission hold for each member:
/// <list type="bullet">
/// <item>A member whose reservation does not fit (or whose account is disabled) is rolled back to its savepoint and gets
/// its own error; the others commit. The balance can never go negative: each reservation is one guarded statement.</item>
/// <item>A member that throws is rolled back alone and gets its exception. A failure of the whole transaction (the
/// database busy past its timeout, a lost connection) reaches every member of it, with nothing of theirs stored.</item>
/// <item>A member whose caller was canceled before the commit writes nothing and its call ends canceled; once committed,
/// the call returns the result, whatever happens to its token (a retry with the same key then finds the task).</item>
/// </list>
/// An idle writer takes a lone submission at once, so a single caller waits for no one. SQLite and PostgreSQL alike.
/// Sources: savepoints https://www.sqlite.org/lang_savepoint.html and https://www.postgresql.org/docs/current/sql-savepoint.html;
/// the queue https://learn.microsoft.com/dotnet/core/extensions/channels.
/// </summary>
public sealed class SubmitGroupCommit : IAsyncDisposable, IDisposable
{
    private readonly Channel<Member> _waiting = Channel.CreateUnbounded<Member>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IDbContextFactory<BananaLabDbContext> _dbFactory;
    private readonly CreditLedger _ledger;
    private readonly TaskReader _reader;
    private readonly TaskNotifier _notifier;
    private readonly TaskQueueSignal _queueSignal;
    private readonly int _maxGroup;
    private readonly ILogger<SubmitGroupCommit> _logger;
    private readonly Task _writer;
    private long _grouped;

    /// <summary>Submissions committed so far in a transaction shared with others (diagnostics; the tests check grouping with it).</summary>
    internal long GroupedSubmissions => Interlocked.Read(ref _grouped);

    public SubmitGroupCommit(IDbContextFactory<BananaLabDbContext> dbFactory, CreditLedger ledger, TaskReader reader,
        TaskNotifier notifier, TaskQueueSignal queueSignal, IOptions<TasksOptions> options, ILogger<SubmitGroupCommit> logger)
    {
        _dbFactory = dbFactory;
        _ledger = ledger;
        _reader = reader;
        _notifier = notifier;
        _queueSignal = queueSignal;
        _maxGroup = options.Value.SubmitBatchMax;
        _logger = logger;
        _writer = Task.Run(WriteLoopAsync);
    }

    private sealed class Member(PendingSubmission submission)
    {
        public PendingSubmission Submission { get; } = submission;
        public TaskCompletionSource<SubmissionCommit> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        /// <summary>Set while a transaction is being written: why it was refused, answered once that transaction commits.</summary>
        public TaskError? Refused { get; set; }
        public Exception? Failure { get; set; }
    }

    /// <summary>
    /// Writes the submission in the next group and returns its standings, or why nothing was written. Throws what the
    /// member's own statements threw, or <see cref="OperationCanceledException"/> when its token was canceled before the
    /// commit; either way nothing of it is stored.
    /// </summary>
    public Task<SubmissionCommit> CommitAsync(PendingSubmission submission)
    {
        var member = new Member(submission);
        if (!_waiting.Writer.TryWrite(member)) throw new ObjectDisposedException(nameof(SubmitGroupCommit), "The application is stopping.");
        return member.Done.Task;
    }

    private async Task WriteLoopAsync()
    {
        var group = new List<Member>(_maxGroup);
        while (await _waiting.Reader.WaitToReadAsync())
        {
            group.Clear();
            while (group.Count < _maxGroup && _waiting.Reader.TryRead(out var member)) group.Add(member);
            // Accounts are locked in one order (by id; a user's own submissions keep theirs), so two groups writing at
            // once (two nodes on PostgreSQL) can never wait on each other's balance rows in a cycle: no deadlock.
            await WriteGroupAsync([.. group.OrderBy(m => m.Submission.UserId)]);
        }
    }

    /// <summary>
    /// Commits the group, again without the members canceled meanwhile. When the transaction as a whole fails (the database
    /// busy past its timeout, a lost connection, a full disk), it is rolled back and every member still waiting gets that
    /// exception, as each would have got it in a transaction of its own; retrying them one by one would only make each
    /// wait out the same timeout again.
    /// </summary>
    private async Task WriteGroupAsync(List<Member> group)
    {
        var live = group.Where(m => !CanceledNow(m)).ToList();
        while (live.Count > 0)
        {
            try
            {
                await TryCommitAsync(live);
            }
            catch (Exception e)
            {
                _logger.LogWarning(e, "A transaction of {Count} submissions failed; none of them was stored", live.Count);
                foreach (var member in live) member.Done.TrySetException(e);
                return;
            }
            live = live.Where(m => !m.Done.Task.IsCompleted).ToList();
        }
    }

    private static bool CanceledNow(Member member)
    {
        if (!member.Submission.CancellationToken.IsCancellationRequested) return false;
        member.Done.TrySetCanceled(member.Submission.CancellationToken);
        return true;
    }

    /// <summary>
    /// One transaction for the members. On commit every member is answered. When a written member's caller was canceled
    /// before the commit, everything is rolled back instead, that member is answered canceled, and the others are left
    /// unanswered for the next try.
    /// </summary>
    private async Task TryCommitAsync(List<Member> members)
    {
        var none = CancellationToken.None;
        await using var db = await _dbFactory.CreateDbContextAsync(none);
        await db.Database.OpenConnectionAsync(none);
        await using var transaction = await db.Database.BeginTransactionAsync(none);
        using var reservations = _ledger.OpenReservations(db);
        using var tasks = new RowInsert<GenerationTask>(db);
        using var decisions = new RowInsert<ModerationDecisionRecord>(db);

        var written = new List<Member>(members.Count);
        for (var i = 0; i < members.Count; i++)
        {
            var member = members[i];
            member.Refused = null;
            member.Failure = null;
            if (CanceledNow(member)) continue;
            var savepoint = $"submission_{i}";
            await transaction.CreateSavepointAsync(savepoint, none);
            try
            {
                if (await WriteAsync(db, member.Submission, reservations, tasks, decisions))
                {
                    await transaction.ReleaseSavepointAsync(savepoint, none);
                    written.Add(member);
                    continue;
                }
                await transaction.RollbackToSavepointAsync(savepoint, none);
                member.Refused = await RefusalAsync(db, member.Submission);
            }
            catch (Exception e)
            {
                await transaction.RollbackToSavepointAsync(savepoint, none);
                member.Failure = e;
            }
        }

        // The last moment a caller's cancel can still undo its submission: it must not be committed with the others.
        var canceled = written.Where(m => m.Submission.CancellationToken.IsCancellationRequested).ToList();
        if (canceled.Count > 0)
        {
            await transaction.RollbackAsync(none);
            canceled.ForEach(m => CanceledNow(m));
            return;
        }
        await transaction.CommitAsync(none);
        if (members.Count > 1) Interlocked.Add(ref _grouped, written.Count);

        // Queued before anyone can see the task start: the events first, then the worker is woken, and only then the
        // places in line are read (a claim need not wait for that read).
        foreach (var task in written.SelectMany(m => m.Submission.Tasks))
            _notifier.Publish(new TaskEvent(task.Id, task.UserId, TaskEventKind.Queued, task.Status, 0));
        if (written.Count > 0) _queueSignal.Notify();

        var standings = await StandingsAsync(db, written);
        foreach (var member in members)
        {
            if (member.Done.Task.IsCompleted) continue;
            if (member.Failure is { } failure) member.Done.TrySetException(failure);
            else if (member.Refused is { } refused) member.Done.TrySetResult(new SubmissionCommit([], members.Count, refused));
            else member.Done.TrySetResult(new SubmissionCommit(standings[member], members.Count));
        }
    }

    /// <summary>A member's statements: per task its reservation, then the tasks, their decisions and the idempotency link. False when a reservation did not fit.</summary>
    private static async Task<bool> WriteAsync(BananaLabDbContext db, PendingSubmission submission, CreditLedger.ReservationWriter reservations,
        RowInsert<GenerationTask> tasks, RowInsert<ModerationDecisionRecord> decisions)
    {
        var none = CancellationToken.None;
        foreach (var task in submission.Tasks)
            if (!await reservations.TryReserveAsync(submission.UserId, task.Id, task.CreditsReserved, none)) return false;
        foreach (var task in submission.Tasks) await tasks.InsertAsync(task, none);
        foreach (var decision in submission.Decisions) await decisions.InsertAsync(decision, none);
        if (submission.IdempotencyRecordId is { } recordId) await IdempotencyStore.LinkTaskAsync(db, recordId, submission.LinkedId, none);
        return true;
    }

    /// <summary>Why a member's reservation did not fit, as of the balance left by the members before it.</summary>
    private static async Task<TaskError> RefusalAsync(BananaLabDbContext db, PendingSubmission submission)
    {
        var user = await db.Users.AsNoTracking().Where(u => u.Id == submission.UserId)
            .Select(u => new { u.CreditBalance, u.Disabled }).SingleOrDefaultAsync(CancellationToken.None);
        return user is null || user.Disabled
            ? TaskErrors.UserDisabled()
            : TaskErrors.InsufficientCredits(submission.Tasks.Sum(t => t.CreditsReserved), user.CreditBalance);
    }

    /// <summary>
    /// The committed members' places in line, read once for the group after the commit. A failed read leaves them without
    /// a place (0) rather than failing submissions that are already stored.
    /// </summary>
    private async Task<Dictionary<Member, IReadOnlyList<(int Position, int? EtaSeconds)>>> StandingsAsync(BananaLabDbContext db, List<Member> written)
    {
        var all = written.SelectMany(m => m.Submission.Tasks).ToList();
        IReadOnlyList<(int Position, int? EtaSeconds)> standings;
        try
        {
            standings = await _reader.StandingsAsync(db, all, CancellationToken.None);
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "Queue positions of {Count} submitted tasks could not be read", all.Count);
            standings = all.Select(_ => (0, (int?)null)).ToList();
        }
        var byMember = new Dictionary<Member, IReadOnlyList<(int, int?)>>(written.Count);
        var at = 0;
        foreach (var member in written)
        {
            byMember[member] = [.. standings.Skip(at).Take(member.Submission.Tasks.Count)];
            at += member.Submission.Tasks.Count;
        }
        return byMember;
    }

    /// <summary>Stops taking submissions and lets the writer finish those already waiting.</summary>
    public async ValueTask DisposeAsync()
    {
        _waiting.Writer.TryComplete();
        await _writer;
    }

    /// <inheritdoc cref="DisposeAsync"/>
    public void Dispose()
    {
        _waiting.Writer.TryComplete();
        _writer.GetAwaiter().GetResult();
    }
}
