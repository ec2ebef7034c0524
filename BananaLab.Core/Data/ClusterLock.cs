namespace BananaLab.Core.Data;

/// <summary>
/// The start-up steps that exactly one process of a cluster may run at a time, whichever node gets there
/// first (see <see cref="IDatabaseProvider.LockAsync"/>). The values are PostgreSQL advisory lock keys:
/// each is the ASCII bytes of an eight-letter name.
/// </summary>
public enum ClusterLock : long
{
    /// <summary>"BananaLb": creating the database and applying migrations.</summary>
    Migrations = 0x42616E616E614C62,

    /// <summary>"BLkeyrng": reading the data-protection key ring and creating its first key.</summary>
    KeyRing = 0x424C6B6579726E67,
}
