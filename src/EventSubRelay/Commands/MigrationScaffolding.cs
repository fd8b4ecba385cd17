using EventSubRelay.Data;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations.Design;
using Npgsql.EntityFrameworkCore.PostgreSQL.Design.Internal;

namespace EventSubRelay.Commands;

/// <summary>
/// Writes a new migration with EF Core's own scaffolder (what <c>dotnet ef migrations add</c> does),
/// for machines without the dotnet-ef tool.
/// </summary>
internal static class MigrationScaffolding
{
    public static int Write(IServiceProvider services, string name, TextWriter output)
    {
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RelayDbContext>();

        var design = new ServiceCollection();
        design.AddEntityFrameworkDesignTimeServices();
        design.AddDbContextDesignTimeServices(db);
#pragma warning disable EF1001 // The provider's design-time services are what dotnet-ef loads too.
        new NpgsqlDesignTimeServices().ConfigureDesignTimeServices(design);
#pragma warning restore EF1001
        using var designServices = design.BuildServiceProvider();

        var scaffolder = designServices.GetRequiredService<IMigrationsScaffolder>();
        var migration = scaffolder.ScaffoldMigration(name, "EventSubRelay", "Data.Migrations", "C#");
        var directory = Path.Combine(FindProjectDirectory(), "Data", "Migrations");
        var files = scaffolder.Save(FindProjectDirectory(), migration, directory);
        output.WriteLine($"Wrote {files.MigrationFile}, {files.MetadataFile} and {files.SnapshotFile}.");
        return 0;
    }

    private static string FindProjectDirectory()
    {
        for (var directory = new DirectoryInfo(Directory.GetCurrentDirectory()); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "src", "EventSubRelay");
            if (File.Exists(Path.Combine(candidate, "EventSubRelay.csproj")))
            {
                return candidate;
            }

            if (File.Exists(Path.Combine(directory.FullName, "EventSubRelay.csproj")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Run add-migration from inside the repository.");
    }
}
