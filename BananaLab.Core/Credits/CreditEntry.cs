namespace BananaLab.Core.Credits;

/// <summary>
/// One append-only line of a user's credit ledger. <see cref="Amount"/> is the signed change of the
/// spendable balance: grants and releases add, reserves subtract, a capture changes nothing (it turns
/// the held reservation into a charge).
/// </summary>
public sealed class CreditEntry
{
    public long Id { get; set; }
    public Guid UserId { get; set; }
    public CreditEntryKind Kind { get; set; }
    public int Amount { get; set; }
    /// <summary>Credits moved by this entry, always positive (for a capture: the credits charged).</summary>
    public int Credits { get; set; }
    public int BalanceAfter { get; set; }
    public Guid? TaskId { get; set; }
    public string? Reason { get; set; }
    public Guid? ActorUserId { get; set; }
    public DateTime CreatedAt { get; set; }
}

public enum CreditEntryKind
{
    Grant = 0,
    Reserve = 1,
    Capture = 2,
    Release = 3,
    Adjustment = 4,
}
