/**
 * A room member as this node holds it: what every node knows of it (MemberInfo, in the RoomStore) plus
 * what only its own node has: the socket it is pushed through, what its login token allows.
 */
import type { TokenPrivileges } from '../auth/roomToken';
import type { LocalMember } from './LocalRooms';
import type { MemberInfo } from './RoomStore';

export interface Member extends MemberInfo, LocalMember {
  /** What the member's 04 login token allows (auth/roomToken mayPublish); absent = no restriction. */
  privileges?: TokenPrivileges;
}
