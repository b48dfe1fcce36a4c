"""Example relying parties (department services) that sign citizens in with the provider, as with GOV.UK One Login."""
