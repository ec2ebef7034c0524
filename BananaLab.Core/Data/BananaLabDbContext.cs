using BananaLab.Core.Credits;
using BananaLab.Core.Idempotency;
using BananaLab.Core.Moderation;
using BananaLab.Core.Sessions;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Core.Webhooks;
using BananaLab.Core.Workers;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace BananaLab.Core.Data;

/// <summary>
/// The one model of the product. SQLite uses this type (its migrations are in <c>Data/Migrations</c>);
/// PostgreSQL uses <see cref="Postgres.PostgresDbContext"/>, the same model with its own migrations.
/// </summary>
public class BananaLabDbContext : DbContext, IDataProtectionKeyContext
{
    public BananaLabDbContext(DbContextOptions<BananaLabDbContext> options) : base(options)
    {
    }

    /// <summary>For a provider's derived context, which only exists to own that provider's migrations.</summary>
    protected BananaLabDbContext(DbContextOptions options) : base(options)
    {
    }

    public DbSet<User> Users => Set<User>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<GenerationTask> Tasks => Set<GenerationTask>();
    public DbSet<TaskImage> TaskImages => Set<TaskImage>();
    public DbSet<TaskAttempt> TaskAttempts => Set<TaskAttempt>();
    public DbSet<CreditEntry> CreditEntries => Set<CreditEntry>();

    /// <summary>Which worker serves which models, renewed while each runs (see <see cref="WorkerDirectory"/>).</summary>
    public DbSet<WorkerRegistration> Workers => Set<WorkerRegistration>();

    /// <summary>
    /// The web nodes' data-protection key ring (it signs cookies, antiforgery tokens and signed image
    /// links), in the database that every node shares; see <c>BananaLab.Web/KeyRing</c>.
    /// </summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    protected override void ConfigureConventions(ModelConfigurationBuilder builder)
    {
        // Every timestamp is UTC; SQLite drops DateTime.Kind, so restore it on read.
        builder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        builder.Properties<DateTime?>().HaveConversion<UtcDateTimeConverter>();
    }

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<User>(user =>
        {
            user.HasIndex(u => u.NormalizedEmail).IsUnique();
            user.Property(u => u.Email).HasMaxLength(320);
            user.Property(u => u.NormalizedEmail).HasMaxLength(320);
            user.Property(u => u.DisplayName).HasMaxLength(200);
            user.Property(u => u.WebhookUrl).HasMaxLength(2000);
            user.Property(u => u.WebhookSecret).HasMaxLength(100);
            user.ToTable(t => t.HasCheckConstraint("CK_Users_CreditBalance_NotNegative", "\"CreditBalance\" >= 0"));
        });

        model.Entity<TaskAttempt>(attempt =>
        {
            attempt.HasIndex(a => new { a.TaskId, a.StartedAt });
            attempt.HasOne<GenerationTask>().WithMany().HasForeignKey(a => a.TaskId).OnDelete(DeleteBehavior.Cascade);
            attempt.Property(a => a.WorkerName).HasMaxLength(200);
            attempt.Property(a => a.Outcome).HasConversion<string>().HasMaxLength(20);
            attempt.Property(a => a.ErrorCode).HasMaxLength(64);
        });

        model.Entity<WorkerRegistration>(worker =>
        {
            worker.HasKey(w => w.Name);
            worker.Property(w => w.Name).HasMaxLength(200);
            worker.Property(w => w.NodeName).HasMaxLength(200);
        });

        model.Entity<ApiKey>(key =>
        {
            key.HasIndex(k => k.Prefix);
            key.HasIndex(k => k.KeyHash).IsUnique();
            key.HasIndex(k => k.UserId);
            key.Property(k => k.Prefix).HasMaxLength(32);
            key.Property(k => k.KeyHash).HasMaxLength(64);
            key.HasOne<User>().WithMany().HasForeignKey(k => k.UserId);
        });

        model.Entity<GenerationTask>(task =>
        {
            task.ToTable("Tasks");
            task.HasOne<User>().WithMany().HasForeignKey(t => t.UserId);
            // The claim and queue positions: oldest queued first. Partial, so it holds only the queued
            // tasks: a claim reads its head instead of stepping over every task that ever ran.
            task.HasIndex(t => new { t.CreatedAt, t.Id }, "IX_Tasks_Claimable").HasFilter("\"Status\" = 0");
            task.HasIndex(t => new { t.UserId, t.CreatedAt });
            task.HasIndex(t => new { t.Status, t.LeaseExpiresAt });
            // The admin log and dashboard: every user's tasks by time.
            task.HasIndex(t => t.CreatedAt);
            task.Property(t => t.ModelId).HasMaxLength(100);
            task.Property(t => t.Provider).HasMaxLength(50);
            task.Property(t => t.Prompt).HasMaxLength(4000);
            task.Property(t => t.NegativePrompt).HasMaxLength(4000);
            task.Property(t => t.WorkerName).HasMaxLength(200);
            task.Property(t => t.ErrorCode).HasMaxLength(64);
            task.Property(t => t.ErrorMessage).HasMaxLength(1000);
            task.Property(t => t.Source).HasMaxLength(32);
            task.Property(t => t.BatchKey).HasMaxLength(260);
            task.HasIndex(t => t.BatchId);
            task.HasIndex(t => t.ComparisonId);
            task.Property(t => t.WebhookUrl).HasMaxLength(2000);
            task.Property(t => t.Origin).HasMaxLength(SubmissionOrigin.MaxLength);
            task.Ignore(t => t.IsTerminal);
            task.HasMany(t => t.Images).WithOne().HasForeignKey(i => i.TaskId);
        });

        model.Entity<TaskImage>(image =>
        {
            image.HasIndex(i => new { i.TaskId, i.Index }).IsUnique();
            image.Property(i => i.Sha256).HasMaxLength(64);
            image.Property(i => i.ContentType).HasMaxLength(64);
        });

        model.Entity<IdempotencyRecord>(record =>
        {
            record.HasIndex(r => new { r.UserId, r.Key }).IsUnique();
            record.Property(r => r.Key).HasMaxLength(IdempotencyStore.MaxKeyLength);
            record.Property(r => r.Scope).HasMaxLength(100);
            record.Property(r => r.RequestHash).HasMaxLength(64);
            record.HasOne<User>().WithMany().HasForeignKey(r => r.UserId);
        });

        model.Entity<ClientSession>(session =>
        {
            session.HasIndex(s => s.KeyHash).IsUnique();
            session.Property(s => s.KeyHash).HasMaxLength(64);
            session.Property(s => s.ModelId).HasMaxLength(100);
            session.Property(s => s.ClientVersion).HasMaxLength(100);
            session.HasOne<User>().WithMany().HasForeignKey(s => s.UserId);
            session.HasIndex(s => s.ApiKeyId);
        });

        model.Entity<WebhookDelivery>(delivery =>
        {
            delivery.HasIndex(d => new { d.Status, d.NextAttemptAt });
            delivery.HasIndex(d => d.TaskId);
            // One batch result per batch, however many of its tasks finish at once.
            delivery.HasIndex(d => d.BatchId, "UX_WebhookDeliveries_Batch").IsUnique().HasFilter("\"BatchId\" IS NOT NULL");
            delivery.Property(d => d.Url).HasMaxLength(2000);
            delivery.Property(d => d.EventType).HasMaxLength(50);
            delivery.Property(d => d.LastError).HasMaxLength(500);
            delivery.HasOne<User>().WithMany().HasForeignKey(d => d.UserId);
        });

        model.Entity<ModerationTerm>(term =>
        {
            term.Property(t => t.Category).HasMaxLength(32);
            term.Property(t => t.Term).HasMaxLength(100);
            term.Property(t => t.Reason).HasMaxLength(500);
        });

        model.Entity<ModerationDecisionRecord>(record =>
        {
            record.ToTable("ModerationDecisions");
            record.HasIndex(r => r.CreatedAt);
            record.HasIndex(r => r.TaskId);
            record.HasIndex(r => new { r.Allowed, r.CreatedAt });
            record.Property(r => r.Subject).HasMaxLength(32);
            record.Property(r => r.Categories).HasMaxLength(200);
            record.Property(r => r.MatchedRules).HasMaxLength(1000);
            record.Property(r => r.NormalizedText).HasMaxLength(2000);
            record.Property(r => r.Note).HasMaxLength(500);
            record.Property(r => r.Source).HasMaxLength(32);
            record.Property(r => r.Prompt).HasMaxLength(4000);
            record.Property(r => r.ReviewVerdict).HasConversion<string>().HasMaxLength(32);
            record.Property(r => r.ReviewCategory).HasMaxLength(32);
            record.Property(r => r.ReviewNote).HasMaxLength(500);
            // The admins' open review items (the badge and the "review requested" filter).
            record.HasIndex(r => new { r.ReviewVerdict, r.ReviewRequestedAt });
        });

        model.Entity<CreditEntry>(entry =>
        {
            entry.HasOne<User>().WithMany().HasForeignKey(e => e.UserId);
            entry.HasIndex(e => new { e.UserId, e.Id });
            // Daily spend and the dashboard's hourly charges.
            entry.HasIndex(e => new { e.Kind, e.CreatedAt });
            // At most one reservation per task, and at most one settlement (capture or release):
            // no crash, retry or race can charge or refund a task twice.
            entry.HasIndex(e => e.TaskId, "UX_CreditEntries_Reserve").IsUnique().HasFilter("\"Kind\" = 1");
            entry.HasIndex(e => e.TaskId, "UX_CreditEntries_Settlement").IsUnique().HasFilter("\"Kind\" IN (2, 3)");
            entry.Property(e => e.Reason).HasMaxLength(500);
        });
    }

}

internal sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
    v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
    v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
