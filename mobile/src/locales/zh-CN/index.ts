// One module per feature; add yours here.
import actions from "./actions";
import auth from "./auth";
import cases from "./cases";
import common from "./common";
import figures from "./figures";
import home from "./home";
import intake from "./intake";
import map from "./map";
import me from "./me";
import notifications from "./notifications";
import offline from "./offline";
import outbox from "./outbox";
import raise from "./raise";
import rate from "./rate";
import room from "./room";
import standing from "./standing";
import wall from "./wall";

export default { common, auth, home, cases, actions, notifications, me, raise, rate, room, standing, intake, offline, outbox, figures, map, wall };
