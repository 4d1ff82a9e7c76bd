export const membershipKeys = {
  /** The tenants the signed-in user belongs to, with their role in each. */
  mine: (userId: string) => ['memberships', userId] as const,
};
