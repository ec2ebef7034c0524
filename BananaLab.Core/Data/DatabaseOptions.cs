using Microsoft.Extensions.Configuration;

namespace BananaLab.Core.Data;

public enum DatabaseEngine
{
    /// <summary>One file under <c>Storage:DataDirectory</c>: the default, for one machine.</summary>
    Sqlite,

    /// <summary>A PostgreSQL server shared by several web nodes and worker processes.</summary>
    Postgres,
}

/// <summary><c>Database:Provider</c> and the connection string <c>ConnectionStrings:BananaLab</c> (PostgreSQL only).</summary>
public sealed record DatabaseOptions(DatabaseEngine Provider, string? ConnectionString)
{
    public const string Section = "Database";
    public const string ConnectionStringName = "BananaLab";

    /// <summary>
    /// Read once while services are registered (the engine decides which services exist), with a message
    /// that names the setting when it is wrong.
    /// </summary>
    public static DatabaseOptions Read(IConfiguration configuration)
    {
        var name = configuration[$"{Section}:Provider"];
        var engine = DatabaseEngine.Sqlite;
        if (!string.IsNullOrWhiteSpace(name) && (!Enum.TryParse(name.Trim(), ignoreCase: true, out engine) || !Enum.IsDefined(engine)))
            throw new InvalidOperationException($"Database:Provider must be Sqlite or Postgres, not '{name}'.");
        var connectionString = configuration.GetConnectionString(ConnectionStringName);
        if (engine == DatabaseEngine.Postgres && string.IsNullOrWhiteSpace(connectionString))
            throw new InvalidOperationException(
                "Database:Provider is Postgres, so ConnectionStrings:BananaLab must be set (e.g. \"Host=127.0.0.1;Database=bananalab;Username=bananalab;Password=...\").");
        return new DatabaseOptions(engine, connectionString);
    }
}
