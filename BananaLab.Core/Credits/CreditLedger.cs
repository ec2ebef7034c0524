using System.Data.Common;
using BananaLab.Core.Data;
using BananaLab.Core.Users;
using Microsoft.EntityFrameworkCore;
using RelationalTypeMapping = Microsoft.EntityFrameworkCore.Storage.RelationalTypeMapping;

namespace BananaLab.Core.Credits;

/// <summary>
/// The append-only credit ledger. Methods taking a <see cref="BananaLabDbContext"/> join the caller's
/// transaction (a reservation is written together with its task); the others run their own.
/// </summary>
public sealed class CreditLedger(IDbContextFactory<BananaLabDbContext> dbFactory, IDatabaseProvider database, TimeProvider clock)
{
    public async Task<int> GetBalanceAsync(Guid userId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Users.Where(u => u.Id == userId).Select(u => u.CreditBalance).SingleOrDefaultAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<CreditEntry>> GetEntriesAsync(Guid userId, int skip, int take,
        CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.CreditEntries.AsNoTracking().Where(e => e.UserId == userId)
            .OrderByDescending(e => e.Id).Skip(skip).Take(take).ToListAsync(cancellationToken);
    }

    /// <summary>Adds credits (sign-up grant, purchase, bootstrap).</summary>
    public Task<int> GrantAsync(Guid userId, int credits, string reason, CancellationToken cancellationToken = default)
    {
        if (credits <= 0) throw new ArgumentOutOfRangeException(nameof(credits), "A grant must be positive.");
        return ApplyStandaloneAsync(userId, CreditEntryKind.Grant, credits, reason, null, cancellationToken);
    }

    /// <summary>
    /// An admin's correction with a required reason; negative amounts remove credits but never below zero.
    /// Returns the new balance, or null when the adjustment would make the balance negative.
    /// </summary>
    public async Task<int?> AdjustAsync(Guid userId, int amount, string reason, Guid actorUserId,
        CancellationToken cancellationToken = default)
    {
        if (amount == 0) throw new ArgumentOutOfRangeException(nameof(amount), "An adjustment cannot be zero.");
        if (string.IsNullOrWhiteSpace(reason)) throw new ArgumentException("An adjustment needs a reason.", nameof(reason));
        try
        {
            return await ApplyStandaloneAsync(userId, CreditEntryKind.Adjustment, amount, reason, actorUserId, cancellationToken);
        }
        catch (InsufficientCreditsException)
        {
            return null;
        }
    }

    private async Task<int> ApplyStandaloneAsync(Guid userId, CreditEntryKind kind, int amount, string reason,
        Guid? actor, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var balance = await MoveBalanceAsync(db, userId, amount, cancellationToken)
            ?? throw new InsufficientCreditsException();
        db.CreditEntries.Add(new CreditEntry
        {
            UserId = userId, Kind = kind, Amount = amount, Credits = Math.Abs(amount), BalanceAfter = balance,
            Reason = reason, ActorUserId = actor, CreatedAt = clock.GetUtcNow().UtcDateTime,
        });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return balance;
    }

    /// <summary>
    /// Holds the task's price. False when the balance is too small or the account is disabled;
    /// nothing is written then.
    /// </summary>
    public async Task<bool> ReserveAsync(BananaLabDbContext db, Guid userId, Guid taskId, int credits,
        CancellationToken cancellationToken)
    {
        var balance = await MoveBalanceAsync(db, userId, -credits, cancellationToken, requireEnabled: true);
        if (balance is null) return false;
        db.CreditEntries.Add(new CreditEntry
        {
            UserId = userId, Kind = CreditEntryKind.Reserve, Amount = -credits, Credits = credits,
            BalanceAfter = balance.Value, TaskId = taskId, CreatedAt = clock.GetUtcNow().UtcDateTime,
        });
        return true;
    }

    /// <summary>
    /// Prepared reservations for one transaction that holds many tasks (the submit's group commit,
    /// <see cref="Tasks.SubmitGroupCommit"/>): the same balance check and ledger row as <see cref="ReserveAsync"/>, as two
    /// statements prepared once and reused for every task. The context's connection must be open, in its transaction.
    /// </summary>
    public ReservationWriter OpenReservations(BananaLabDbContext db) => new(db, clock);

    /// <summary>See <see cref="OpenReservations"/>.</summary>
    public sealed class ReservationWriter : IDisposable
    {
        private readonly DbCommand _move;
        private readonly DbParameter _user;
        private readonly DbParameter _credits;
        private readonly RowInsert<CreditEntry> _entries;
        private readonly TimeProvider _clock;

        internal ReservationWriter(BananaLabDbContext db, TimeProvider clock)
        {
            _clock = clock;
            var users = db.Model.FindEntityType(typeof(User))!;
            _move = TransactionCommand.Create(db);
            _user = ((RelationalTypeMapping)users.FindProperty(nameof(User.Id))!.GetTypeMapping()).CreateParameter(_move, "@user", null, false);
            _credits = ((RelationalTypeMapping)users.FindProperty(nameof(User.CreditBalance))!.GetTypeMapping()).CreateParameter(_move, "@credits", null, false);
            _move.Parameters.Add(_user);
            _move.Parameters.Add(_credits);
            // MoveBalanceAsync's statement for a reservation: one statement, so no two reservations spend the same credits.
            _move.CommandText = """
                UPDATE "Users" SET "CreditBalance" = "CreditBalance" - @credits
                WHERE "Id" = @user AND "CreditBalance" - @credits >= 0 AND NOT "Disabled"
                RETURNING "CreditBalance"
                """;
            _entries = new RowInsert<CreditEntry>(db);
        }

        /// <summary>Holds the task's price; false (nothing written) when the balance is too small or the account is disabled or gone.</summary>
        public async Task<bool> TryReserveAsync(Guid userId, Guid taskId, int credits, CancellationToken cancellationToken)
        {
            _user.Value = userId;
            _credits.Value = credits;
            if (await _move.ExecuteScalarAsync(cancellationToken) is not { } balance || balance is DBNull) return false;
            await _entries.InsertAsync(new CreditEntry
            {
                UserId = userId, Kind = CreditEntryKind.Reserve, Amount = -credits, Credits = credits,
                BalanceAfter = Convert.ToInt32(balance, System.Globalization.CultureInfo.InvariantCulture), TaskId = taskId,
                CreatedAt = _clock.GetUtcNow().UtcDateTime,
            }, cancellationToken);
            return true;
        }

        public void Dispose()
        {
            _move.Dispose();
            _entries.Dispose();
        }
    }

    /// <summary>
    /// Settles a task's reservation as a charge. Returns false when the task was already settled
    /// (a duplicate after a crash or a race); the caller must then roll back.
    /// </summary>
    public async Task<bool> CaptureAsync(BananaLabDbContext db, Guid userId, Guid taskId, int credits,
        CancellationToken cancellationToken)
    {
        var balance = await db.Users.Where(u => u.Id == userId).Select(u => u.CreditBalance).SingleAsync(cancellationToken);
        return await InsertSettlementAsync(db, new CreditEntry
        {
            UserId = userId, Kind = CreditEntryKind.Capture, Amount = 0, Credits = credits,
            BalanceAfter = balance, TaskId = taskId, CreatedAt = clock.GetUtcNow().UtcDateTime,
        }, cancellationToken);
    }

    /// <summary>
    /// Gives a task's reservation back. Returns false when the task was already settled; the caller
    /// must then roll back, which also undoes the balance change made here.
    /// </summary>
    public async Task<bool> ReleaseAsync(BananaLabDbContext db, Guid userId, Guid taskId, int credits, string reason,
        CancellationToken cancellationToken)
    {
        var balance = await MoveBalanceAsync(db, userId, credits, cancellationToken)
            ?? throw new InvalidOperationException("A release cannot make a balance negative.");
        return await InsertSettlementAsync(db, new CreditEntry
        {
            UserId = userId, Kind = CreditEntryKind.Release, Amount = credits, Credits = credits,
            BalanceAfter = balance, TaskId = taskId, Reason = reason, CreatedAt = clock.GetUtcNow().UtcDateTime,
        }, cancellationToken);
    }

    private async Task<bool> InsertSettlementAsync(BananaLabDbContext db, CreditEntry entry, CancellationToken cancellationToken)
    {
        db.CreditEntries.Add(entry);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException e) when (database.IsUniqueViolation(e))
        {
            db.ChangeTracker.Clear();
            return false;
        }
    }

    /// <summary>
    /// Changes the balance by <paramref name="delta"/> unless that would go below zero (or, for a
    /// reservation, the account is disabled); returns the new balance. One statement, so two
    /// concurrent reservations can never both spend the same credits.
    /// </summary>
    private static async Task<int?> MoveBalanceAsync(BananaLabDbContext db, Guid userId, int delta, CancellationToken cancellationToken,
        bool requireEnabled = false)
    {
        var balances = await db.Database.SqlQuery<int>($"""
            UPDATE "Users" SET "CreditBalance" = "CreditBalance" + {delta}
            WHERE "Id" = {userId} AND "CreditBalance" + {delta} >= 0 AND ({!requireEnabled} OR NOT "Disabled")
            RETURNING "CreditBalance" AS "Value"
            """).ToListAsync(cancellationToken);
        return balances.Count == 0 ? null : balances[0];
    }

    private sealed class InsufficientCreditsException : Exception;
}
