"""Work lists: for an agreement's purpose, the persons whose status fits, each with the evidence
the purpose may see, all unverified; everyone else counted by reason
(``accord.worklists.worklist``)."""
